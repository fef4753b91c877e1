#include "train/smolvla_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "models/smolvla/image_resize.h"
#include "models/smolvla/smolvla_weights.h"
#include "models/smolvla/tokenizer.h"
#include "train/adamw.h"
#include "train/batch_loader.h"
#include "train/checkpoint_io.h"
#include "train/smolvla_net.h"
#include "train/torch_tensors.h"
#include "train/train_loop.h"

namespace embody::train {

namespace {

namespace fs = std::filesystem;
namespace sv = models::smolvla;

constexpr uint64_t kValidationSeed = 0x5eed5a1;  // fixed noise and times for the validation loss

Result<sv::BpeTokenizer> LoadTokenizer(const std::string& dir_or_file) {
  const std::string path = fs::is_directory(dir_or_file) ? dir_or_file + "/tokenizer.json" : dir_or_file;
  if (!fs::exists(path))
    return NotFound(path + ": no SmolVLM2 tokenizer (SmolVLA tokenizes the task with it; give --tokenizer-dir, "
                           "e.g. ../shared/data/smolvlm2-tokenizer)");
  return sv::BpeTokenizer::Load(path);
}

// Turns loader batches into the network's inputs as LeRobot's preprocessor and policy do:
// MEAN_STD state and actions zero-padded to the max dims, images resized with padding to
// [-1, 1], the task with a trailing newline tokenized and padded to the batch's longest.
class SmolVlaInputMaker {
 public:
  SmolVlaInputMaker(const SmolVlaHparams& h, const TrainFeatures& f, const DatasetStats& stats, sv::BpeTokenizer tok)
      : h_(h), f_(f), tok_(std::move(tok)) {
    auto vec = [](const std::vector<float>& v) {
      return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat32).clone();
    };
    state_mean_ = vec(stats.at("observation.state").mean);
    state_std_ = vec(stats.at("observation.state").std);
    action_mean_ = vec(stats.at("action").mean);
    action_std_ = vec(stats.at("action").std);
  }

  // LeRobot's MEAN_STD: (x - mean) / (std + 1e-8).
  torch::Tensor NormState(const torch::Tensor& s) const { return (s - state_mean_) / (state_std_ + 1e-8); }
  torch::Tensor UnnormActions(const torch::Tensor& a) const { return a * action_std_ + action_mean_; }

  Result<SmolVlaInputs> Make(const Batch& b, int chunk) {
    const int64_t B = b.size;
    SmolVlaInputs in;
    in.images = Images(b.images.data(), B);
    const torch::Tensor state =
        torch::from_blob(const_cast<float*>(b.state.data()), {B, f_.state_dim}, torch::kFloat32);
    in.state = torch::constant_pad_nd(NormState(state), {0, h_.max_state_dim - f_.state_dim});
    if (!b.actions.empty()) {
      const torch::Tensor actions =
          torch::from_blob(const_cast<float*>(b.actions.data()), {B, chunk, f_.action_dim}, torch::kFloat32);
      in.actions = torch::constant_pad_nd((actions - action_mean_) / (action_std_ + 1e-8),
                                          {0, h_.max_action_dim - f_.action_dim});
      in.action_is_pad = torch::from_blob(const_cast<uint8_t*>(b.action_is_pad.data()), {B, chunk}, torch::kUInt8)
                             .to(torch::kBool);
    }
    std::vector<const sv::TokenizedTask*> tasks;
    size_t longest = 0;
    for (int64_t i = 0; i < B; ++i) {
      const std::string& task = b.tasks.size() > static_cast<size_t>(i) && !b.tasks[static_cast<size_t>(i)].empty()
                                    ? b.tasks[static_cast<size_t>(i)]
                                    : h_.default_task;
      EMBODY_ASSIGN_OR_RETURN(const sv::TokenizedTask* t, Tokens(task));
      tasks.push_back(t);
      longest = std::max(longest, t->ids.size());
    }
    // padding "longest": every row padded on the right to the batch's longest with the pad id
    std::vector<int64_t> ids(static_cast<size_t>(B) * longest, int64_t{tok_.pad_id()});
    std::vector<uint8_t> mask(static_cast<size_t>(B) * longest, 0);
    for (size_t i = 0; i < tasks.size(); ++i)
      for (size_t k = 0; k < tasks[i]->ids.size(); ++k) {
        ids[i * longest + k] = tasks[i]->ids[k];
        mask[i * longest + k] = tasks[i]->mask[k];
      }
    const int64_t L = static_cast<int64_t>(longest);
    in.lang_ids = torch::from_blob(ids.data(), {B, L}, torch::kInt64).clone();
    in.lang_mask = torch::from_blob(mask.data(), {B, L}, torch::kUInt8).to(torch::kBool);
    return in;
  }

  // uint8 [B][cameras][H][W][3] -> [B, cameras, 3, S, S] in [-1, 1], as the runtime preprocesses.
  torch::Tensor Images(const uint8_t* pixels, int64_t B) const {
    const int64_t cams = static_cast<int64_t>(f_.cameras.size()), S = h_.vlm.vision.image_size;
    torch::Tensor out = torch::empty({B, cams, 3, S, S}, torch::kFloat32);
    const size_t frame = static_cast<size_t>(f_.height) * static_cast<size_t>(f_.width) * 3;
    float* dst = out.data_ptr<float>();
    for (int64_t i = 0; i < B * cams; ++i)
      sv::ResizeWithPadToSiglip(pixels + static_cast<size_t>(i) * frame, f_.height, f_.width, static_cast<int>(S),
                                dst + i * 3 * S * S);
    return out;
  }

  const sv::BpeTokenizer& tokenizer() const { return tok_; }

 private:
  Result<const sv::TokenizedTask*> Tokens(const std::string& task) {
    auto it = cache_.find(task);
    if (it == cache_.end()) {
      // LeRobot truncates a long task silently (keeping its end); so does training.
      EMBODY_ASSIGN_OR_RETURN(sv::TokenizedTask t, sv::TokenizeTask(tok_, task, h_.tokenizer_max_length,
                                                                    h_.pad_language_to == "max_length"));
      it = cache_.emplace(task, std::move(t)).first;
    }
    return &it->second;
  }

  SmolVlaHparams h_;
  TrainFeatures f_;
  sv::BpeTokenizer tok_;
  torch::Tensor state_mean_, state_std_, action_mean_, action_std_;
  std::map<std::string, sv::TokenizedTask> cache_;
};

// Fields embody adds to train_config.json (not SmolVLAConfig's) and needs back on --resume.
io::Json EmbodyExtras(const SmolVlaHparams& h) {
  return {{"mask_padded_actions", h.mask_padded_actions},
          {"siglip_position_ids", h.transformers_fp32_position_ids ? "transformers-fp32" : "exact"},
          {"default_task", h.default_task}};
}

Status ReadEmbodyExtras(const std::string& pretrained_dir, SmolVlaHparams* h) {
  const std::string path = pretrained_dir + "/train_config.json";
  if (!io::FileExists(path)) return Status::Ok();
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  if (!j.contains("embody") || !j["embody"].is_object()) return Status::Ok();
  const io::Json& e = j["embody"];
  try {
    h->mask_padded_actions = e.value("mask_padded_actions", h->mask_padded_actions);
    h->transformers_fp32_position_ids = e.value("siglip_position_ids", std::string("exact")) == "transformers-fp32";
    h->default_task = e.value("default_task", h->default_task);
  } catch (const std::exception& ex) {
    return InvalidArgument(path + ": field 'embody': " + ex.what());
  }
  return Status::Ok();
}

Status CopyTokenizer(const std::string& tokenizer_dir, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir + "/tokenizer", ec);
  if (ec) return IoError(dir + "/tokenizer: cannot create directory: " + ec.message());
  const fs::path src_dir = fs::is_directory(tokenizer_dir) ? fs::path(tokenizer_dir) : fs::path(tokenizer_dir).parent_path();
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                        "added_tokens.json"}) {
    const fs::path src = src_dir / f;
    if (!fs::exists(src)) continue;
    fs::copy_file(src, fs::path(dir) / "tokenizer" / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError(src.string() + ": copy into the checkpoint failed: " + ec.message());
  }
  return Status::Ok();
}

// Tensors of LeRobot's state_dict that nothing reads: checkpoints that leave them out (a tied,
// deduplicated lm_head) still load.
std::set<std::string> UnusedTensors() {
  return {"model.vlm_with_expert.vlm.lm_head.weight", sv::kVlm + "text_model.norm.weight"};
}

std::vector<AdamW::Group> TrainableGroup(SmolVlaPolicy& policy, const SmolVlaHparams& h) {
  AdamW::Group g;
  g.lr = h.optimizer_lr;
  g.weight_decay = h.optimizer_weight_decay;
  for (const auto& p : policy->named_parameters(true))
    if (p.value().requires_grad()) {
      g.names.push_back(p.key());
      g.params.push_back(p.value());
    }
  return {g};
}

class SmolVlaLoop : public LoopPolicy {
 public:
  SmolVlaLoop(SmolVlaPolicy policy, const SmolVlaHparams& h, const TrainFeatures& f, DatasetStats stats,
              std::unique_ptr<SmolVlaInputMaker> maker, io::Json train_config, std::string tokenizer_dir,
              int64_t total_steps, const TrainSource* validation, int64_t val_frames)
      : policy_(std::move(policy)), h_(h), f_(f), stats_(std::move(stats)), maker_(std::move(maker)),
        config_(MakeSmolVlaConfigJson(h, f)), train_config_(std::move(train_config)),
        tokenizer_dir_(std::move(tokenizer_dir)), total_steps_(total_steps), validation_(validation),
        val_frames_(val_frames) {
    train_config_["policy"] = config_;
    train_config_["embody"] = EmbodyExtras(h);
  }

  Result<StepLoss> Loss(const Batch& batch) override {
    EMBODY_ASSIGN_OR_RETURN(SmolVlaInputs in, maker_->Make(batch, h_.chunk_size));
    return StepLoss{policy_->Loss(in).loss, 0, 0};
  }

  Status WritePretrained(const std::string& dir) override {
    EMBODY_TRY(WritePretrainedModel(dir, config_, f_, stats_, StateDictCopy(*policy_), train_config_));
    EMBODY_TRY(io::WriteJsonFile(dir + "/vlm_config.json", MakeVlmConfigJson(h_.vlm)));
    return CopyTokenizer(tokenizer_dir_, dir);
  }

  // The training loss in eval mode over up to val_frames frames, with noise and times from a
  // generator of its own (the same at every checkpoint; the training RNG is left untouched).
  Result<double> Validate() override {
    if (!validation_) return -1.0;
    const int64_t total = validation_->num_frames();
    const int64_t count = val_frames_ > 0 ? std::min(val_frames_, total) : total;
    if (count == 0) return -1.0;
    torch::NoGradGuard no_grad;
    policy_->eval();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(kValidationSeed);
    double sum = 0;
    for (int64_t done = 0; done < count;) {
      const int64_t b = std::min<int64_t>(16, count - done);
      std::vector<int64_t> spread;
      for (int64_t i = 0; i < b; ++i) spread.push_back((done + i) * total / count);
      Batch batch;
      EMBODY_TRY(GatherFrames(*validation_, std::move(spread), h_.chunk_size, "validation", &batch));
      EMBODY_ASSIGN_OR_RETURN(SmolVlaInputs in, maker_->Make(batch, h_.chunk_size));
      sum += policy_->Loss(in, gen).loss.item<double>() * static_cast<double>(b);
      done += b;
    }
    return sum / static_cast<double>(count);
  }

  double LrScale(int64_t step) const override { return CosineDecayWithWarmup(h_, total_steps_, step); }

  io::Json SchedulerState(int64_t step) const override {
    return {{"base_lrs", {h_.optimizer_lr}},
            {"last_epoch", step},
            {"_step_count", step + 1},
            {"_get_lr_called_within_step", false},
            {"_last_lr", {h_.optimizer_lr * CosineDecayWithWarmup(h_, total_steps_, step)}},
            {"lr_lambdas", {nullptr}}};
  }

 private:
  SmolVlaPolicy policy_;
  SmolVlaHparams h_;
  TrainFeatures f_;
  DatasetStats stats_;
  std::unique_ptr<SmolVlaInputMaker> maker_;
  io::Json config_, train_config_;
  std::string tokenizer_dir_;
  int64_t total_steps_;
  const TrainSource* validation_;
  int64_t val_frames_;
};

}  // namespace

double CosineDecayWithWarmup(const SmolVlaHparams& h, int64_t total_steps, int64_t step) {
  double warmup = h.scheduler_warmup_steps, decay = h.scheduler_decay_steps;
  if (total_steps < h.scheduler_decay_steps) {
    const double scale = static_cast<double>(total_steps) / h.scheduler_decay_steps;
    warmup = static_cast<double>(static_cast<int64_t>(h.scheduler_warmup_steps * scale));
    decay = static_cast<double>(total_steps);
  }
  const double s = static_cast<double>(step);
  if (s < warmup) {
    if (step <= 0) return 1 / (warmup + 1);
    const double frac = 1 - s / warmup;
    return (1 / (warmup + 1) - 1) * frac + 1;
  }
  const double capped = std::min(s, decay);
  const double cosine = 0.5 * (1 + std::cos(3.141592653589793 * capped / decay));
  const double alpha = h.scheduler_decay_lr / h.optimizer_lr;
  return (1 - alpha) * cosine + alpha;
}

Result<TrainResult> TrainSmolVla(const TrainSource& source, const SmolVlaHparams& h_in, const TrainOptions& o,
                                 const std::string& tokenizer_dir, const TrainSource* validation) {
  if (o.output.empty()) return InvalidArgument("train: --output is required");
  if (o.batch_size < 1 || o.steps < 1 || o.save_every < 1 || o.log_every < 1)
    return InvalidArgument("train: --steps, --batch-size, --save-every and the log period must be >= 1");
  if (source.num_frames() < 1) return FailedPrecondition(source.description() + ": no frames to train on");
  const TrainFeatures& f = source.features();
  if (f.env_state_dim > 0)
    return InvalidArgument(source.description() + ": SmolVLA has no observation.environment_state input (ACT has)");
  SmolVlaHparams h = h_in;
  EMBODY_TRY(ValidateSmolVlaHparams(h, f));
  SetTorchThreads(o.threads);

  EMBODY_ASSIGN_OR_RETURN(const ResumePoint resume, FindResumePoint(o));
  const std::string weights_from = !resume.dir.empty() ? resume.dir + "/pretrained_model" : o.init_from;
  if (!resume.dir.empty()) {
    TrainFeatures ckf;
    EMBODY_TRY(ReadSmolVlaConfig(weights_from, &h, &ckf));
    EMBODY_TRY(ReadEmbodyExtras(weights_from, &h));
    EMBODY_TRY(CheckCheckpointFeatures(ckf, f, resume.dir));
  }
  EMBODY_ASSIGN_OR_RETURN(sv::BpeTokenizer tok, LoadTokenizer(tokenizer_dir));
  if (tok.vocab_size() > h.vlm.text.vocab)
    return InvalidArgument(tokenizer_dir + ": the tokenizer has " + std::to_string(tok.vocab_size()) +
                           " tokens, more than the text model's vocabulary " + std::to_string(h.vlm.text.vocab));

  torch::manual_seed(o.seed);
  SmolVlaPolicy policy(h);
  if (!weights_from.empty())
    EMBODY_TRY(LoadStateDict(*policy, weights_from + "/model.safetensors", UnusedTensors()));
  DatasetStats stats;
  if (!resume.dir.empty()) {
    EMBODY_ASSIGN_OR_RETURN(stats, ReadStats(weights_from, f));
  } else {
    EMBODY_ASSIGN_OR_RETURN(stats, source.Stats());
  }
  if (!stats.count("observation.state") || !stats.count("action"))
    return FailedPrecondition(source.description() + ": SmolVLA needs statistics of observation.state and action");

  AdamW opt(TrainableGroup(policy, h), {h.optimizer_beta1, h.optimizer_beta2, h.optimizer_eps});
  EMBODY_TRY(RestoreTrainingState(resume, opt));

  const io::Json train_config = {
      {"dataset", source.description()}, {"steps", o.steps}, {"batch_size", o.batch_size},
      {"save_freq", o.save_every}, {"log_freq", o.log_every}, {"seed", o.seed}, {"num_workers", o.workers},
      {"optimizer", {{"type", "adamw"}, {"lr", h.optimizer_lr}, {"betas", {h.optimizer_beta1, h.optimizer_beta2}},
                     {"eps", h.optimizer_eps}, {"weight_decay", h.optimizer_weight_decay},
                     {"grad_clip_norm", h.optimizer_grad_clip_norm}}},
      {"scheduler", {{"type", "cosine_decay_with_warmup"}, {"num_warmup_steps", h.scheduler_warmup_steps},
                     {"num_decay_steps", h.scheduler_decay_steps}, {"peak_lr", h.optimizer_lr},
                     {"decay_lr", h.scheduler_decay_lr}}},
      {"tokenizer", tokenizer_dir}, {"trainer", "embody train (" + TorchVersion() + ")"}};
  TrainOptions loop_options = o;
  loop_options.grad_clip_norm = h.optimizer_grad_clip_norm;
  auto maker = std::make_unique<SmolVlaInputMaker>(h, f, stats, std::move(tok));
  SmolVlaLoop loop(policy, h, f, stats, std::move(maker), train_config, tokenizer_dir, o.steps, validation,
                   o.val_frames);
  return RunTrainLoop(source, h.chunk_size, loop_options, resume, opt, *policy, loop);
}

Result<SmolVlaChunk> SampleSmolVlaWithTrainingGraph(const std::string& dir, const std::vector<const uint8_t*>& images,
                                                    const float* state, const std::string& task,
                                                    const std::vector<float>& noise) {
  SmolVlaHparams h;
  TrainFeatures f;
  EMBODY_TRY(ReadSmolVlaConfig(dir, &h, &f));
  EMBODY_TRY(ReadEmbodyExtras(dir, &h));
  if (images.size() != f.cameras.size())
    return InvalidArgument(dir + ": " + std::to_string(f.cameras.size()) + " cameras expected, got " +
                           std::to_string(images.size()));
  if (!state) return InvalidArgument(dir + ": observation.state is required");
  const size_t n = static_cast<size_t>(h.chunk_size) * static_cast<size_t>(h.max_action_dim);
  if (noise.size() != n)
    return InvalidArgument("noise: " + std::to_string(noise.size()) + " values, expected chunk_size x max_action_dim = " +
                           std::to_string(n));
  SmolVlaPolicy policy(h);
  EMBODY_TRY(LoadStateDict(*policy, dir + "/model.safetensors", UnusedTensors()));
  EMBODY_ASSIGN_OR_RETURN(DatasetStats stats, ReadStats(dir, f));
  EMBODY_ASSIGN_OR_RETURN(sv::BpeTokenizer tok, LoadTokenizer(dir + "/tokenizer"));
  SmolVlaInputMaker maker(h, f, stats, std::move(tok));
  const size_t frame = static_cast<size_t>(f.height) * static_cast<size_t>(f.width) * 3;
  Batch b;
  b.size = 1;
  for (const uint8_t* img : images) b.images.insert(b.images.end(), img, img + frame);
  b.state.assign(state, state + f.state_dim);
  b.tasks = {task};
  EMBODY_ASSIGN_OR_RETURN(SmolVlaInputs in, maker.Make(b, h.chunk_size));
  torch::NoGradGuard no_grad;
  policy->eval();
  const torch::Tensor x =
      torch::from_blob(const_cast<float*>(noise.data()), {1, h.chunk_size, h.max_action_dim}, torch::kFloat32);
  const torch::Tensor out = policy->Sample(in, x).contiguous();
  SmolVlaChunk c;
  c.normalized.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  const torch::Tensor robot = maker.UnnormActions(out[0].slice(1, 0, f.action_dim)).contiguous();
  c.actions.assign(robot.data_ptr<float>(), robot.data_ptr<float>() + robot.numel());
  return c;
}

Result<double> BenchSmolVlaTrainStep(const SmolVlaHparams& h, const TrainFeatures& f, const std::string& tokenizer_dir,
                                     int batch_size, int steps, int threads) {
  EMBODY_TRY(ValidateSmolVlaHparams(h, f));
  if (steps < 1 || batch_size < 1) return InvalidArgument("bench: steps and batch size must be >= 1");
  EMBODY_ASSIGN_OR_RETURN(sv::BpeTokenizer tok, LoadTokenizer(tokenizer_dir));
  SetTorchThreads(threads);
  torch::manual_seed(0);
  SmolVlaPolicy policy(h);
  AdamW opt(TrainableGroup(policy, h), {h.optimizer_beta1, h.optimizer_beta2, h.optimizer_eps});
  EMBODY_ASSIGN_OR_RETURN(sv::TokenizedTask t, sv::TokenizeTask(tok, h.default_task, h.tokenizer_max_length,
                                                                h.pad_language_to == "max_length"));
  const int64_t B = batch_size, L = static_cast<int64_t>(t.ids.size()), S = h.vlm.vision.image_size;
  SmolVlaInputs in;
  in.images = torch::rand({B, static_cast<int64_t>(f.cameras.size()), 3, S, S}) * 2 - 1;
  in.lang_ids = torch::tensor(std::vector<int64_t>(t.ids.begin(), t.ids.end())).view({1, L}).expand({B, L});
  in.lang_mask = torch::ones({B, L}, torch::kBool);
  in.state = torch::constant_pad_nd(torch::randn({B, f.state_dim}), {0, h.max_state_dim - f.state_dim});
  in.actions = torch::constant_pad_nd(torch::randn({B, h.chunk_size, f.action_dim}), {0, h.max_action_dim - f.action_dim});
  in.action_is_pad = torch::zeros({B, h.chunk_size}, torch::kBool);
  policy->train();
  std::vector<double> times;
  for (int i = 0; i < steps + 1; ++i) {  // the first step warms up allocators and is not counted
    const auto t0 = std::chrono::steady_clock::now();
    const SmolVlaLoss loss = policy->Loss(in);
    opt.ZeroGrad();
    loss.loss.backward();
    torch::nn::utils::clip_grad_norm_(opt.AllParams(), h.optimizer_grad_clip_norm);
    opt.Step();
    if (i > 0) times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace embody::train
