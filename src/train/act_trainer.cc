#include "train/act_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "io/safetensors.h"
#include "train/act_net.h"
#include "train/adamw.h"
#include "train/batch_loader.h"
#include "train/checkpoint_io.h"
#include "train/cpu_autocast.h"
#include "train/torch_tensors.h"
#include "train/train_loop.h"

namespace embody::train {

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point from, Clock::time_point to) { return std::chrono::duration<double>(to - from).count(); }

struct Normalization {
  torch::Tensor state_mean, state_std, env_mean, env_std, action_mean, action_std;
  torch::Tensor image_mean, image_std;  // [1,1,3,1,1]
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
  if (f.env_state_dim > 0) {
    n.env_mean = vec(stats.at("observation.environment_state").mean);
    n.env_std = vec(stats.at("observation.environment_state").std);
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

// `rows` float vectors of width `dim` (state, environment state), normalized: [rows, dim].
torch::Tensor NormRows(const float* v, int64_t rows, int dim, const torch::Tensor& mean, const torch::Tensor& std) {
  return Norm(torch::from_blob(const_cast<float*>(v), {rows, dim}, torch::kFloat32), mean, std);
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
  if (!f.cameras.empty()) a.images = Images(b.images.data(), B, f, n);
  if (f.state_dim > 0) a.state = NormRows(b.state.data(), B, f.state_dim, n.state_mean, n.state_std);
  if (f.env_state_dim > 0) a.env_state = NormRows(b.env_state.data(), B, f.env_state_dim, n.env_mean, n.env_std);
  a.actions = Norm(torch::from_blob(const_cast<float*>(b.actions.data()), {B, chunk, f.action_dim}, torch::kFloat32),
                   n.action_mean, n.action_std);
  a.action_is_pad = torch::from_blob(const_cast<uint8_t*>(b.action_is_pad.data()), {B, chunk}, torch::kUInt8)
                        .to(torch::kBool);
  return a;
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

// ACT's part of the shared loop: L1 + KL, the pretrained_model files, the eval-mode L1.
class ActLoop : public LoopPolicy {
 public:
  ActLoop(ActPolicy policy, const ActHparams& h, const TrainFeatures& f, DatasetStats stats, io::Json train_config,
          const TrainSource* validation, int64_t val_frames)
      : policy_(std::move(policy)), h_(h), f_(f), stats_(std::move(stats)), norm_(MakeNormalization(stats_, f)),
        config_(MakeActConfigJson(h, f)), train_config_(std::move(train_config)), validation_(validation),
        val_frames_(val_frames) {
    train_config_["policy"] = config_;
  }

  Result<StepLoss> Loss(const Batch& batch) override {
    ActLoss l = policy_->Loss(MakeBatch(batch, f_, h_.chunk_size, norm_));
    return StepLoss{l.loss, l.l1, l.kld};
  }
  Status WritePretrained(const std::string& dir) override {
    return WritePretrainedModel(dir, config_, f_, stats_, StateDictCopy(*policy_), train_config_);
  }
  Result<double> Validate() override {
    if (!validation_) return -1.0;
    return ValidationL1(policy_, *validation_, h_.chunk_size, norm_, val_frames_);
  }
  bool HasLossParts() const override { return true; }

 private:
  ActPolicy policy_;
  ActHparams h_;
  TrainFeatures f_;
  DatasetStats stats_;
  Normalization norm_;
  io::Json config_, train_config_;
  const TrainSource* validation_;
  int64_t val_frames_;
};

}  // namespace

Result<TrainResult> TrainAct(const TrainSource& source, const ActHparams& h_in, const TrainOptions& o,
                             const TrainSource* validation) {
  if (o.output.empty()) return InvalidArgument("train: --output is required");
  if (o.batch_size < 1 || o.steps < 1 || o.save_every < 1 || o.log_every < 1)
    return InvalidArgument("train: --steps, --batch-size, --save-every and the log period must be >= 1");
  if (source.num_frames() < 1) return FailedPrecondition(source.description() + ": no frames to train on");
  const TrainFeatures& f = source.features();
  if (f.cameras.empty() && f.env_state_dim == 0)
    return InvalidArgument(source.description() + ": ACT needs cameras or observation.environment_state");
  ActHparams h = h_in;
  EMBODY_TRY(ValidateHparams(h));
  SetTorchThreads(o.threads);

  EMBODY_ASSIGN_OR_RETURN(const ResumePoint resume, FindResumePoint(o));
  if (!resume.dir.empty()) {
    const std::string cfg_path = resume.dir + "/pretrained_model/config.json";
    EMBODY_ASSIGN_OR_RETURN(io::Json cfg, io::ReadJsonFile(cfg_path));
    TrainFeatures ckf;
    EMBODY_TRY(ReadActConfigJson(cfg, cfg_path, &h, &ckf));
    EMBODY_TRY(CheckCheckpointFeatures(ckf, f, resume.dir));
    // mixed precision is how the run computes, not what it trains: the command line may turn it on
    if (h_in.use_amp) h.use_amp = true;
  }
  if (h.use_amp) EMBODY_TRY(CpuAutocastSupported());

  torch::manual_seed(o.seed);
  ActPolicy policy(h, f);
  DatasetStats stats;
  if (!resume.dir.empty()) {
    EMBODY_TRY(LoadStateDict(*policy, resume.dir + "/pretrained_model/model.safetensors"));
    EMBODY_ASSIGN_OR_RETURN(stats, ReadStats(resume.dir + "/pretrained_model", f));
  } else {
    if (!o.init_from.empty()) EMBODY_TRY(LoadStateDict(*policy, o.init_from + "/model.safetensors"));
    EMBODY_ASSIGN_OR_RETURN(stats, source.Stats());
  }
  if (resume.dir.empty() && o.init_from.empty() && o.bn_init_frames > 0 && !f.cameras.empty())
    EMBODY_TRY(InitBackboneNorms(policy, source, h.chunk_size, MakeNormalization(stats, f), o.bn_init_frames));

  const ParamGroups pg = MakeParamGroups(*policy);
  AdamW opt({{pg.names[0], pg.params[0], h.optimizer_lr, h.optimizer_weight_decay},
             {pg.names[1], pg.params[1], h.optimizer_lr_backbone, h.optimizer_weight_decay}});
  EMBODY_TRY(RestoreTrainingState(resume, opt));

  const io::Json train_config = {{"dataset", source.description()}, {"steps", o.steps}, {"batch_size", o.batch_size},
                                 {"save_freq", o.save_every}, {"log_freq", o.log_every}, {"seed", o.seed},
                                 {"num_workers", o.workers}, {"grad_clip_norm", o.grad_clip_norm},
                                 {"optimizer", {{"type", "adamw"}, {"lr", h.optimizer_lr},
                                                {"weight_decay", h.optimizer_weight_decay},
                                                {"lr_backbone", h.optimizer_lr_backbone},
                                                {"betas", {opt.hyper().beta1, opt.hyper().beta2}},
                                                {"eps", opt.hyper().eps}}},
                                 {"use_imagenet_stats", true}, {"trainer", "embody train (" + TorchVersion() + ")"}};
  ActLoop loop(policy, h, f, stats, train_config, validation, o.val_frames);
  return RunTrainLoop(source, h.chunk_size, o, resume, opt, *policy, loop);
}

Result<std::vector<float>> PredictWithTrainingGraph(const std::string& dir, const std::vector<const uint8_t*>& images,
                                                    const float* state, std::vector<float>* normalized,
                                                    const float* env_state) {
  EMBODY_ASSIGN_OR_RETURN(io::Json cfg, io::ReadJsonFile(dir + "/config.json"));
  ActHparams h;
  TrainFeatures f;
  EMBODY_TRY(ReadActConfigJson(cfg, dir + "/config.json", &h, &f));
  // a use_amp checkpoint predicts in f32 where this libtorch cannot autocast (training ran elsewhere)
  if (h.use_amp && !CpuAutocastSupported().ok()) h.use_amp = false;
  if (images.size() != f.cameras.size())
    return InvalidArgument(dir + ": " + std::to_string(f.cameras.size()) + " cameras expected, got " +
                           std::to_string(images.size()));
  if (f.state_dim > 0 && !state) return InvalidArgument(dir + ": observation.state is required");
  if (f.env_state_dim > 0 && !env_state) return InvalidArgument(dir + ": observation.environment_state is required");
  ActPolicy policy(h, f);
  EMBODY_TRY(LoadStateDict(*policy, dir + "/model.safetensors"));
  EMBODY_ASSIGN_OR_RETURN(DatasetStats stats, ReadStats(dir, f));
  Normalization n = MakeNormalization(stats, f);
  // The checkpoint's own image stats (ImageNet's unless a run chose otherwise).
  if (!f.cameras.empty()) {
    EMBODY_ASSIGN_OR_RETURN(auto pre, io::SafetensorsFile::Open(dir + "/policy_preprocessor_step_3_normalizer_processor.safetensors"));
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
  if (!f.cameras.empty()) b.images = Images(pixels.data(), 1, f, n);
  if (f.state_dim > 0) b.state = NormRows(state, 1, f.state_dim, n.state_mean, n.state_std);
  if (f.env_state_dim > 0) b.env_state = NormRows(env_state, 1, f.env_state_dim, n.env_mean, n.env_std);
  const torch::Tensor out = policy->model(b).actions.contiguous();
  if (normalized) normalized->assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  const torch::Tensor robot = (out * n.action_std + n.action_mean).contiguous();
  return std::vector<float>(robot.data_ptr<float>(), robot.data_ptr<float>() + robot.numel());
}

Result<TrainStepTimes> BenchTrainStep(const ActHparams& h, const TrainFeatures& f, int batch_size, int steps,
                                      int threads) {
  EMBODY_TRY(ValidateHparams(h));
  if (h.use_amp) EMBODY_TRY(CpuAutocastSupported());
  if (steps < 1 || batch_size < 1) return InvalidArgument("bench: steps and batch size must be >= 1");
  if (f.cameras.empty() && f.env_state_dim == 0)
    return InvalidArgument("bench: ACT needs cameras or an environment state (--bench-env-state)");
  SetTorchThreads(threads);
  torch::manual_seed(0);
  ActPolicy policy(h, f);
  const ParamGroups pg = MakeParamGroups(*policy);
  AdamW opt({{pg.names[0], pg.params[0], h.optimizer_lr, h.optimizer_weight_decay},
             {pg.names[1], pg.params[1], h.optimizer_lr_backbone, h.optimizer_weight_decay}});
  ActBatch b;
  const int64_t cams = static_cast<int64_t>(f.cameras.size());
  if (cams > 0) b.images = torch::randn({batch_size, cams, 3, f.height, f.width});
  if (f.state_dim > 0) b.state = torch::randn({batch_size, f.state_dim});
  if (f.env_state_dim > 0) b.env_state = torch::randn({batch_size, f.env_state_dim});
  b.actions = torch::randn({batch_size, h.chunk_size, f.action_dim});
  b.action_is_pad = torch::zeros({batch_size, h.chunk_size}, torch::kBool);
  policy->train();
  std::vector<double> total, fwd, bwd, optim;
  for (int i = 0; i < steps + 1; ++i) {  // the first step warms up allocators and is not counted
    const auto t0 = Clock::now();
    ActLoss loss = policy->Loss(b);  // Loss reads the values (.item()), so the forward pass is done here
    const auto t1 = Clock::now();
    opt.ZeroGrad();
    loss.loss.backward();
    const auto t2 = Clock::now();
    torch::nn::utils::clip_grad_norm_(opt.AllParams(), 10.0);
    opt.Step();
    if (i == 0) continue;
    const auto t3 = Clock::now();
    total.push_back(Seconds(t0, t3));
    fwd.push_back(Seconds(t0, t1));
    bwd.push_back(Seconds(t1, t2));
    optim.push_back(Seconds(t2, t3));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return TrainStepTimes{median(total), median(fwd), median(bwd), median(optim)};
}

}  // namespace embody::train
