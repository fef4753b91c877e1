#include "train/act_trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "io/safetensors.h"
#include "train/act_net.h"
#include "train/batch_loader.h"
#include "train/checkpoint_io.h"

namespace embody::train {

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// torch -> embody tensor (an owning float32 / uint8 / int64 copy).
Tensor ToEmbody(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().contiguous();
  std::vector<int64_t> dims(c.sizes().begin(), c.sizes().end());
  DType dt = DType::kF32;
  if (c.scalar_type() == torch::kUInt8) dt = DType::kU8;
  else if (c.scalar_type() == torch::kInt64) dt = DType::kI64;
  Tensor out = Tensor::Empty(dt, Shape(dims));
  std::memcpy(out.raw(), c.data_ptr(), out.nbytes());
  return out;
}

torch::Tensor ToTorch(const Tensor& t) {
  std::vector<int64_t> dims;
  for (int i = 0; i < t.rank(); ++i) dims.push_back(t.dim(i));
  auto type = t.dtype() == DType::kU8 ? torch::kUInt8 : t.dtype() == DType::kI64 ? torch::kInt64 : torch::kFloat32;
  return torch::from_blob(t.raw(), dims, type).clone();
}

NamedTensors Weights(ActPolicy& policy) {
  NamedTensors out;
  for (const auto& [name, t] : StateDict(*policy)) out.emplace_back(name, ToEmbody(t));
  return out;
}

// Copies every state_dict tensor from a model.safetensors (F32/F16/BF16), checking shapes; any
// missing key is an error naming the file, so a half-matching checkpoint never trains silently.
Status LoadWeights(ActPolicy& policy, const std::string& path) {
  EMBODY_ASSIGN_OR_RETURN(auto file, io::SafetensorsFile::Open(path));
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : StateDict(*policy)) {
    const Shape shape(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
    EMBODY_ASSIGN_OR_RETURN(Tensor w, file->ReadF32(name, &shape));
    t.copy_(torch::from_blob(w.raw(), t.sizes(), torch::kFloat32));
  }
  return Status::Ok();
}

struct Normalization {
  torch::Tensor state_mean, state_std, action_mean, action_std, image_mean, image_std;  // image: [1,1,3,1,1]
};

Normalization MakeNormalization(const DatasetStats& stats, const TrainFeatures& f) {
  Normalization n;
  auto vec = [](const std::vector<float>& v) {
    return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat32).clone();
  };
  if (f.state_dim > 0) {
    n.state_mean = vec(stats.at("observation.state").mean);
    n.state_std = vec(stats.at("observation.state").std);
  }
  n.action_mean = vec(stats.at("action").mean);
  n.action_std = vec(stats.at("action").std);
  n.image_mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 1, 3, 1, 1});
  n.image_std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 1, 3, 1, 1});
  return n;
}

// LeRobot's MEAN_STD: (x - mean) / (std + 1e-8).
torch::Tensor Norm(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& std) {
  return (x - mean) / (std + 1e-8);
}

// uint8 [B][C][H][W][3] -> normalized float [B, C, 3, H, W].
torch::Tensor Images(const uint8_t* pixels, int64_t b, const TrainFeatures& f, const Normalization& n) {
  const int64_t c = static_cast<int64_t>(f.cameras.size());
  const torch::Tensor u8 = torch::from_blob(const_cast<uint8_t*>(pixels), {b, c, f.height, f.width, 3}, torch::kUInt8);
  const torch::Tensor x = u8.permute({0, 1, 4, 2, 3}).to(torch::kFloat32).div(255.0);
  return Norm(x, n.image_mean, n.image_std).contiguous();
}

ActBatch MakeBatch(const Batch& b, const TrainFeatures& f, int chunk, const Normalization& n) {
  ActBatch a;
  const int64_t B = b.size;
  a.images = Images(b.images.data(), B, f, n);
  if (f.state_dim > 0)
    a.state = Norm(torch::from_blob(const_cast<float*>(b.state.data()), {B, f.state_dim}, torch::kFloat32),
                   n.state_mean, n.state_std);
  a.actions = Norm(torch::from_blob(const_cast<float*>(b.actions.data()), {B, chunk, f.action_dim}, torch::kFloat32),
                   n.action_mean, n.action_std);
  a.action_is_pad = torch::from_blob(const_cast<uint8_t*>(b.action_is_pad.data()), {B, chunk}, torch::kUInt8)
                        .to(torch::kBool);
  return a;
}

// torch.optim.AdamW's single-tensor update, written out so its state is ours to save and load
// in LeRobot's optimizer_state.safetensors layout.
class AdamW {
 public:
  struct Group {
    std::vector<std::string> names;
    std::vector<torch::Tensor> params;
    double lr = 1e-5, weight_decay = 1e-4;
  };
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;

  explicit AdamW(std::vector<Group> groups) : groups_(std::move(groups)) {
    for (const Group& g : groups_)
      for (const torch::Tensor& p : g.params) state_.push_back({torch::zeros_like(p), torch::zeros_like(p), 0});
  }

  void Step() {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (const Group& g : groups_)
      for (const torch::Tensor& p0 : g.params) {
        State& s = state_[i++];
        torch::Tensor p = p0;
        if (!p.grad().defined()) continue;
        const torch::Tensor grad = p.grad();
        p.mul_(1 - g.lr * g.weight_decay);
        s.exp_avg.lerp_(grad, 1 - kBeta1);
        s.exp_avg_sq.mul_(kBeta2).addcmul_(grad, grad, 1 - kBeta2);
        s.step += 1;
        const double bc1 = 1 - std::pow(kBeta1, static_cast<double>(s.step));
        const double bc2 = 1 - std::pow(kBeta2, static_cast<double>(s.step));
        const torch::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(kEps);
        p.addcdiv_(s.exp_avg, denom, -g.lr / bc1);
      }
  }

  void ZeroGrad() {
    for (Group& g : groups_)
      for (torch::Tensor& p : g.params)
        if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }

  std::vector<torch::Tensor> AllParams() const {
    std::vector<torch::Tensor> out;
    for (const Group& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
    return out;
  }

  void Save(TrainingState* ts) const {
    io::Json groups = io::Json::array();
    size_t i = 0;
    for (const Group& g : groups_) {
      io::Json ids = io::Json::array();
      for (size_t k = 0; k < g.params.size(); ++k, ++i) {
        ids.push_back(i);
        const State& s = state_[i];
        const std::string p = "state." + std::to_string(i) + ".";
        ts->optimizer.emplace_back(p + "exp_avg", ToEmbody(s.exp_avg));
        ts->optimizer.emplace_back(p + "exp_avg_sq", ToEmbody(s.exp_avg_sq));
        Tensor step = Tensor::Empty(DType::kF32, Shape{});
        step.data<float>()[0] = static_cast<float>(s.step);
        ts->optimizer.emplace_back(p + "step", step);
      }
      groups.push_back({{"lr", g.lr}, {"betas", {kBeta1, kBeta2}}, {"eps", kEps}, {"weight_decay", g.weight_decay},
                        {"amsgrad", false}, {"foreach", nullptr}, {"maximize", false}, {"capturable", false},
                        {"differentiable", false}, {"fused", nullptr}, {"params", ids}, {"param_names", g.names}});
    }
    ts->param_groups = groups;
  }

  Status Load(const TrainingState& ts, const std::string& where) {
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : ts.optimizer) by_name[name] = &t;
    if (!ts.param_groups.is_array() || ts.param_groups.size() != groups_.size())
      return DataLoss(where + "/optimizer_param_groups.json: expected " + std::to_string(groups_.size()) + " groups");
    size_t i = 0;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const io::Json& names = ts.param_groups[gi].value("param_names", io::Json::array());
      if (names != io::Json(groups_[gi].names))
        return DataLoss(where + "/optimizer_param_groups.json: group " + std::to_string(gi) +
                        " names other parameters than this model has (different config?)");
      for (size_t k = 0; k < groups_[gi].params.size(); ++k, ++i) {
        const std::string p = "state." + std::to_string(i) + ".";
        auto a = by_name.find(p + "exp_avg"), b = by_name.find(p + "exp_avg_sq"), s = by_name.find(p + "step");
        if (a == by_name.end() || b == by_name.end() || s == by_name.end())
          return DataLoss(where + "/optimizer_state.safetensors: missing " + p + "*");
        torch::Tensor ea = ToTorch(*a->second), eb = ToTorch(*b->second);
        if (!ea.sizes().equals(state_[i].exp_avg.sizes()) || !eb.sizes().equals(state_[i].exp_avg.sizes()))
          return DataLoss(where + "/optimizer_state.safetensors: " + p + "exp_avg has the wrong shape");
        state_[i] = {ea, eb, static_cast<int64_t>(std::lround(s->second->data<float>()[0]))};
      }
    }
    return Status::Ok();
  }

 private:
  struct State {
    torch::Tensor exp_avg, exp_avg_sq;
    int64_t step = 0;
  };
  std::vector<Group> groups_;
  std::vector<State> state_;
};

std::string Duration(double s) {
  char buf[32];
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

void PrintProgress(const StepLog& l, bool tty, bool final_line) {
  const int width = 24;
  const double frac = l.total > 0 ? static_cast<double>(l.step) / static_cast<double>(l.total) : 0;
  const int fill = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(fill), '=');
  if (fill < width) bar += '>';
  bar.resize(width, ' ');
  std::fprintf(stderr, "%sstep %lld/%lld [%s] loss %.4f (l1 %.4f kld %.4f) grad %.2f | %.2f step/s | data wait %2.0f%% | ETA %s%s",
               tty ? "\r" : "", static_cast<long long>(l.step), static_cast<long long>(l.total), bar.c_str(), l.loss,
               l.l1, l.kld, l.grad_norm, l.steps_per_s, 100 * l.data_wait, Duration(l.eta_s).c_str(),
               tty && !final_line ? "   " : "\n");
  std::fflush(stderr);
}

// CalibrateFrozenBatchNorms over `frames` training frames spread evenly over the source (every
// camera's image counts), so a trunk without pretrained weights starts normalized.
Status InitBackboneNorms(ActPolicy& policy, const TrainSource& source, int chunk, const Normalization& n,
                         int64_t frames) {
  const int64_t total = source.num_frames();
  const int64_t count = std::min(frames, total);
  if (count == 0) return Status::Ok();
  std::vector<int64_t> spread;
  for (int64_t i = 0; i < count; ++i) spread.push_back(i * total / count);
  Batch batch;
  EMBODY_TRY(GatherFrames(source, std::move(spread), chunk, "backbone norm init", &batch));
  const ActBatch a = MakeBatch(batch, source.features(), chunk, n);
  CalibrateFrozenBatchNorms(*policy->model->backbone, a.images.flatten(0, 1));
  return Status::Ok();
}

// Eval-mode L1 (zero latent, as at inference) over up to `limit` frames of `source`, evenly spaced.
Result<double> ValidationL1(ActPolicy& policy, const TrainSource& source, int chunk, const Normalization& n,
                            int64_t limit) {
  const TrainFeatures& f = source.features();
  const int64_t total = source.num_frames();
  const int64_t count = limit > 0 ? std::min(limit, total) : total;
  if (count == 0) return -1.0;
  torch::NoGradGuard no_grad;
  policy->eval();
  double sum = 0;
  int64_t done = 0;
  const int64_t B = 16;
  while (done < count) {
    const int64_t b = std::min(B, count - done);
    std::vector<int64_t> spread;
    for (int64_t i = 0; i < b; ++i) spread.push_back((done + i) * total / count);
    Batch batch;
    EMBODY_TRY(GatherFrames(source, std::move(spread), chunk, "validation", &batch));
    const ActBatch a = MakeBatch(batch, f, chunk, n);
    const ActOutput o = policy->model(a);
    const torch::Tensor keep = a.action_is_pad.logical_not().unsqueeze(-1);
    sum += (torch::abs(a.actions - o.actions) * keep).mean().item<double>() * static_cast<double>(b);
    done += b;
  }
  policy->train();
  return sum / static_cast<double>(count);
}

Status CheckFeatures(const TrainFeatures& have, const TrainFeatures& want, const std::string& where) {
  if (have.cameras != want.cameras || have.height != want.height || have.width != want.width ||
      have.state_dim != want.state_dim || have.action_dim != want.action_dim)
    return InvalidArgument(where + ": the checkpoint's features (cameras, image size, state/action widths) differ "
                                   "from the dataset's");
  return Status::Ok();
}

}  // namespace

Result<TrainResult> TrainAct(const TrainSource& source, const ActHparams& h_in, const TrainOptions& o,
                             const TrainSource* validation) {
  if (o.output.empty()) return InvalidArgument("train: --output is required");
  if (o.batch_size < 1 || o.steps < 1 || o.save_every < 1 || o.log_every < 1)
    return InvalidArgument("train: --steps, --batch-size, --save-every and the log period must be >= 1");
  if (source.num_frames() < 1) return FailedPrecondition(source.description() + ": no frames to train on");
  const TrainFeatures& f = source.features();
  if (f.cameras.empty()) return Unimplemented(source.description() + ": ACT without cameras is not trained here");
  ActHparams h = h_in;
  EMBODY_TRY(ValidateHparams(h));
  if (o.threads > 0) torch::set_num_threads(o.threads);
  else torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));

  int64_t start = 0;
  std::string resume_dir;
  if (o.resume) {
    auto last = LastCheckpointStep(o.output);
    if (last.ok()) {
      start = *last;
      resume_dir = CheckpointDir(o.output, start);
      EMBODY_ASSIGN_OR_RETURN(io::Json cfg, io::ReadJsonFile(resume_dir + "/pretrained_model/config.json"));
      TrainFeatures ckf;
      EMBODY_TRY(ReadActConfigJson(cfg, resume_dir + "/pretrained_model/config.json", &h, &ckf));
      EMBODY_TRY(CheckFeatures(ckf, f, resume_dir));
    } else if (last.status().code() != StatusCode::kNotFound) {
      return last.status();
    }
  }
  if (start >= o.steps) return FailedPrecondition(o.output + ": already trained to step " + std::to_string(start));

  torch::manual_seed(o.seed);
  ActPolicy policy(h, f);
  DatasetStats stats;
  if (!resume_dir.empty()) {
    EMBODY_TRY(LoadWeights(policy, resume_dir + "/pretrained_model/model.safetensors"));
    EMBODY_ASSIGN_OR_RETURN(stats, ReadStats(resume_dir + "/pretrained_model", f));
  } else {
    if (!o.init_from.empty()) EMBODY_TRY(LoadWeights(policy, o.init_from + "/model.safetensors"));
    EMBODY_ASSIGN_OR_RETURN(stats, source.Stats());
  }
  const Normalization norm = MakeNormalization(stats, f);
  if (resume_dir.empty() && o.init_from.empty() && o.bn_init_frames > 0)
    EMBODY_TRY(InitBackboneNorms(policy, source, h.chunk_size, norm, o.bn_init_frames));

  const ParamGroups pg = MakeParamGroups(*policy);
  AdamW opt({{pg.names[0], pg.params[0], h.optimizer_lr, h.optimizer_weight_decay},
             {pg.names[1], pg.params[1], h.optimizer_lr_backbone, h.optimizer_weight_decay}});
  if (!resume_dir.empty()) {
    EMBODY_ASSIGN_OR_RETURN(TrainingState ts, ReadTrainingState(resume_dir + "/training_state"));
    if (ts.step != start) return DataLoss(resume_dir + "/training_state/training_step.json: step does not match the folder");
    EMBODY_TRY(opt.Load(ts, resume_dir + "/training_state"));
    for (const auto& [name, t] : ts.rng)
      if (name == "torch_cpu") {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        gen.set_state(ToTorch(t));
      }
  }

  const io::Json config = MakeActConfigJson(h, f);
  const io::Json train_config = {{"dataset", source.description()}, {"steps", o.steps}, {"batch_size", o.batch_size},
                                 {"save_freq", o.save_every}, {"log_freq", o.log_every}, {"seed", o.seed},
                                 {"num_workers", o.workers}, {"grad_clip_norm", o.grad_clip_norm},
                                 {"optimizer", {{"type", "adamw"}, {"lr", h.optimizer_lr},
                                                {"weight_decay", h.optimizer_weight_decay},
                                                {"lr_backbone", h.optimizer_lr_backbone},
                                                {"betas", {AdamW::kBeta1, AdamW::kBeta2}}, {"eps", AdamW::kEps}}},
                                 {"use_imagenet_stats", true}, {"trainer", "embody train (libtorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + ")"},
                                 {"policy", config}};

  TrainResult result;
  result.first_step = start;
  auto save = [&](int64_t step) -> Status {
    TrainingState ts;
    ts.step = step;
    opt.Save(&ts);
    ts.rng.emplace_back("torch_cpu", ToEmbody(at::detail::getDefaultCPUGenerator().get_state()));
    const NamedTensors weights = Weights(policy);
    EMBODY_TRY(PublishCheckpoint(o.output, step, [&](const std::string& dir) -> Status {
      EMBODY_TRY(WritePretrainedModel(dir + "/pretrained_model", config, f, stats, weights, train_config));
      return WriteTrainingState(dir + "/training_state", ts);
    }));
    CheckpointInfo info{step, CheckpointDir(o.output, step) + "/pretrained_model", -1};
    if (validation) {
      EMBODY_ASSIGN_OR_RETURN(info.val_l1, ValidationL1(policy, *validation, h.chunk_size, norm, o.val_frames));
    }
    result.checkpoints.push_back(info);
    if (o.on_checkpoint) EMBODY_TRY(o.on_checkpoint(info));
    return Status::Ok();
  };

  LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.chunk = h.chunk_size;
  lo.seed = o.seed;
  lo.first_step = start;
  lo.workers = o.workers;
  BatchLoader loader(source, lo);
  policy->train();
  const bool tty = isatty(fileno(stderr));
  const auto t0 = Clock::now();
  int64_t step = start;
  StepLog log;
  Batch batch;
  while (step < o.steps) {
    EMBODY_TRY(loader.Next(&batch));
    const ActBatch b = MakeBatch(batch, f, h.chunk_size, norm);
    ActLoss loss = policy->Loss(b);
    opt.ZeroGrad();
    loss.loss.backward();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(opt.AllParams(), o.grad_clip_norm);
    opt.Step();
    ++step;
    if (!std::isfinite(loss.l1)) return Internal("train: loss is not finite at step " + std::to_string(step));
    const double elapsed = Since(t0);
    log = {step, o.steps, loss.loss.item<double>(), loss.l1, loss.kld, grad_norm,
           static_cast<double>(step - start) / elapsed, loader.wait_seconds() / elapsed, 0};
    log.eta_s = static_cast<double>(o.steps - step) / std::max(log.steps_per_s, 1e-9);
    result.final_loss = log.loss;
    result.final_l1 = log.l1;
    if (o.progress && (tty || step % o.log_every == 0 || step == o.steps)) PrintProgress(log, tty, false);
    if (o.on_log && (step % o.log_every == 0 || step == o.steps)) o.on_log(log);
    if (step % o.save_every == 0 || step == o.steps) {
      if (o.progress && tty) std::fprintf(stderr, "\n");
      EMBODY_TRY_CTX(save(step), o.output);
    }
    if (o.stop_after > 0 && step - start >= o.stop_after) break;
  }
  if (o.progress && tty) std::fprintf(stderr, "\n");
  result.last_step = step;
  result.seconds = Since(t0);
  result.steps_per_s = static_cast<double>(step - start) / std::max(result.seconds, 1e-9);
  result.data_wait = loader.wait_seconds() / std::max(result.seconds, 1e-9);
  return result;
}

Result<std::vector<float>> PredictWithTrainingGraph(const std::string& dir, const std::vector<const uint8_t*>& images,
                                                    const float* state, std::vector<float>* normalized) {
  EMBODY_ASSIGN_OR_RETURN(io::Json cfg, io::ReadJsonFile(dir + "/config.json"));
  ActHparams h;
  TrainFeatures f;
  EMBODY_TRY(ReadActConfigJson(cfg, dir + "/config.json", &h, &f));
  if (images.size() != f.cameras.size())
    return InvalidArgument(dir + ": " + std::to_string(f.cameras.size()) + " cameras expected, got " +
                           std::to_string(images.size()));
  if (f.state_dim > 0 && !state) return InvalidArgument(dir + ": observation.state is required");
  ActPolicy policy(h, f);
  EMBODY_TRY(LoadWeights(policy, dir + "/model.safetensors"));
  EMBODY_ASSIGN_OR_RETURN(DatasetStats stats, ReadStats(dir, f));
  Normalization n = MakeNormalization(stats, f);
  // The checkpoint's own image stats (ImageNet's unless a run chose otherwise).
  EMBODY_ASSIGN_OR_RETURN(auto pre, io::SafetensorsFile::Open(dir + "/policy_preprocessor_step_3_normalizer_processor.safetensors"));
  {
    const Shape s3{3, 1, 1};
    EMBODY_ASSIGN_OR_RETURN(Tensor m, pre->ReadF32(f.cameras[0] + ".mean", &s3));
    EMBODY_ASSIGN_OR_RETURN(Tensor s, pre->ReadF32(f.cameras[0] + ".std", &s3));
    n.image_mean = ToTorch(m).view({1, 1, 3, 1, 1});
    n.image_std = ToTorch(s).view({1, 1, 3, 1, 1});
  }
  const size_t frame = static_cast<size_t>(f.height) * static_cast<size_t>(f.width) * 3;
  std::vector<uint8_t> pixels;
  for (const uint8_t* img : images) pixels.insert(pixels.end(), img, img + frame);
  torch::NoGradGuard no_grad;
  policy->eval();
  ActBatch b;
  b.images = Images(pixels.data(), 1, f, n);
  if (f.state_dim > 0)
    b.state = Norm(torch::from_blob(const_cast<float*>(state), {1, f.state_dim}, torch::kFloat32), n.state_mean,
                   n.state_std);
  const torch::Tensor out = policy->model(b).actions.contiguous();
  if (normalized) normalized->assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  const torch::Tensor robot = (out * n.action_std + n.action_mean).contiguous();
  return std::vector<float>(robot.data_ptr<float>(), robot.data_ptr<float>() + robot.numel());
}

Result<double> BenchTrainStep(const ActHparams& h, const TrainFeatures& f, int batch_size, int steps, int threads) {
  EMBODY_TRY(ValidateHparams(h));
  if (steps < 1 || batch_size < 1) return InvalidArgument("bench: steps and batch size must be >= 1");
  torch::set_num_threads(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  torch::manual_seed(0);
  ActPolicy policy(h, f);
  const ParamGroups pg = MakeParamGroups(*policy);
  AdamW opt({{pg.names[0], pg.params[0], h.optimizer_lr, h.optimizer_weight_decay},
             {pg.names[1], pg.params[1], h.optimizer_lr_backbone, h.optimizer_weight_decay}});
  ActBatch b;
  const int64_t cams = static_cast<int64_t>(f.cameras.size());
  b.images = torch::randn({batch_size, cams, 3, f.height, f.width});
  if (f.state_dim > 0) b.state = torch::randn({batch_size, f.state_dim});
  b.actions = torch::randn({batch_size, h.chunk_size, f.action_dim});
  b.action_is_pad = torch::zeros({batch_size, h.chunk_size}, torch::kBool);
  policy->train();
  std::vector<double> times;
  for (int i = 0; i < steps + 1; ++i) {  // the first step warms up allocators and is not counted
    const auto t0 = Clock::now();
    ActLoss loss = policy->Loss(b);
    opt.ZeroGrad();
    loss.loss.backward();
    torch::nn::utils::clip_grad_norm_(opt.AllParams(), 10.0);
    opt.Step();
    if (i > 0) times.push_back(Since(t0));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace embody::train
