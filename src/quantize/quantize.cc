#include "quantize/quantize.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/seeded.h"
#include "core/timer.h"
#include "data/reader.h"
#include "io/json_file.h"
#include "models/act/act_model.h"
#include "models/common/precision_plan.h"
#include "models/smolvla/smolvla_model.h"

namespace embody::quantize {

namespace {

// One calibration/evaluation input, identical for every configuration compared.
struct Sample {
  std::vector<std::vector<uint8_t>> images;
  std::vector<std::pair<int, int>> sizes;  // (h, w) per camera
  std::vector<float> state;
  std::vector<float> noise;  // SmolVLA
};

// What one configuration produced on one sample.
struct Outputs {
  std::vector<std::pair<std::string, std::vector<float>>> blocks;  // in execution order
  std::vector<float> actions;                                      // normalized, [chunk, action_dim]
  std::vector<std::vector<float>> steps;                           // SmolVLA expert trajectory
  double ms = 0;
};

// A loaded model behind one interface, so the comparison code is shared.
class Runner {
 public:
  virtual ~Runner() = default;
  virtual Status Run(const Sample& s, Outputs* out) = 0;
  virtual const std::map<std::string, std::map<kernels::WeightFormat, int>>& census() const = 0;
  virtual std::string plan() const = 0;
};

class ActRunner final : public Runner {
 public:
  static Result<std::unique_ptr<Runner>> Load(const std::string& dir, const QuantizeRequest& r, const std::string& plan,
                                              models::QuantCapture* capture) {
    models::act::ActOptions o;
    o.backend = r.backend;
    o.threads = r.threads;
    o.plan = plan;
    o.capture = capture;
    EMBODY_ASSIGN_OR_RETURN(auto m, models::act::ActModel::Load(dir, o));
    auto runner = std::make_unique<ActRunner>();
    runner->model_ = std::move(m);
    return std::unique_ptr<Runner>(std::move(runner));
  }
  Status Run(const Sample& s, Outputs* out) override {
    const auto& c = model_->config();
    models::act::ActObservation obs;
    for (size_t i = 0; i < s.images.size(); ++i) obs.images.push_back({s.images[i].data(), s.sizes[i].first, s.sizes[i].second});
    obs.state = s.state.empty() ? nullptr : s.state.data();
    std::vector<float> env(static_cast<size_t>(c.env_state_dim()), 0.0f);
    obs.env_state = env.empty() ? nullptr : env.data();
    out->actions.assign(static_cast<size_t>(c.chunk_size * c.action_dim()), 0.0f);
    Stopwatch sw;
    EMBODY_TRY(model_->Predict(obs, nullptr, out->actions.data()));
    out->ms = sw.ElapsedMs();
    const auto& b = model_->last_block_outputs();
    out->blocks.clear();
    if (b.backbone) out->blocks.emplace_back("backbone", std::vector<float>(b.backbone, b.backbone + b.backbone_size));
    out->blocks.emplace_back("encoder", std::vector<float>(b.encoder, b.encoder + b.encoder_size));
    out->blocks.emplace_back("decoder", std::vector<float>(b.decoder, b.decoder + b.decoder_size));
    return Status::Ok();
  }
  const std::map<std::string, std::map<kernels::WeightFormat, int>>& census() const override { return model_->op_census(); }
  std::string plan() const override { return model_->plan(); }
  models::act::ActModel& model() { return *model_; }

 private:
  std::unique_ptr<models::act::ActModel> model_;
};

class SmolVlaRunner final : public Runner {
 public:
  static Result<std::unique_ptr<Runner>> Load(const std::string& dir, const QuantizeRequest& r, const std::string& plan,
                                              models::QuantCapture* capture) {
    models::smolvla::SmolVlaOptions o;
    o.backend = r.backend;
    o.threads = r.threads;
    o.plan = plan;
    o.capture = capture;
    o.tokenizer_path = r.tokenizer;
    EMBODY_ASSIGN_OR_RETURN(auto m, models::smolvla::SmolVlaModel::Load(dir, o));
    m->set_record_trajectory(true);
    auto runner = std::make_unique<SmolVlaRunner>();
    runner->model_ = std::move(m);
    runner->task_ = r.task;
    return std::unique_ptr<Runner>(std::move(runner));
  }
  Status Run(const Sample& s, Outputs* out) override {
    const auto& c = model_->config();
    std::vector<models::smolvla::CameraImage> frames;
    for (size_t i = 0; i < s.images.size(); ++i) frames.push_back({s.images[i].data(), s.sizes[i].first, s.sizes[i].second});
    const int64_t n = int64_t{c.chunk_size} * c.max_action_dim;
    std::vector<float> normalized(static_cast<size_t>(n));
    Stopwatch sw;
    EMBODY_TRY(model_->EncodeImages(frames));
    EMBODY_TRY(model_->Prefill(task_, s.state.data()));
    EMBODY_TRY(model_->Denoise(s.noise.data(), nullptr, normalized.data()));
    out->ms = sw.ElapsedMs();
    out->blocks.clear();
    out->blocks.emplace_back("vision+connector", model_->image_tokens());
    const auto& cache = model_->prefix_cache();
    std::vector<float> kv;
    const size_t rows = static_cast<size_t>(cache.length * cache.kv_dim);
    for (size_t l = 0; l < cache.k.size(); ++l) {
      kv.insert(kv.end(), cache.k[l].begin(), cache.k[l].begin() + static_cast<std::ptrdiff_t>(rows));
      kv.insert(kv.end(), cache.v[l].begin(), cache.v[l].begin() + static_cast<std::ptrdiff_t>(rows));
    }
    out->blocks.emplace_back("llm (prefix K/V)", std::move(kv));
    const int64_t a = c.action_dim();
    out->actions.clear();
    for (int64_t t = 0; t < c.chunk_size; ++t)
      out->actions.insert(out->actions.end(), normalized.begin() + t * c.max_action_dim,
                          normalized.begin() + t * c.max_action_dim + a);
    out->blocks.emplace_back("expert", out->actions);
    const auto& traj = model_->last_trajectory();
    out->steps.clear();
    for (size_t off = 0; off + static_cast<size_t>(n) <= traj.size(); off += static_cast<size_t>(n))
      out->steps.emplace_back(traj.begin() + static_cast<std::ptrdiff_t>(off), traj.begin() + static_cast<std::ptrdiff_t>(off + n));
    return Status::Ok();
  }
  const std::map<std::string, std::map<kernels::WeightFormat, int>>& census() const override { return model_->op_census(); }
  std::string plan() const override { return model_->plan(); }

 private:
  std::unique_ptr<models::smolvla::SmolVlaModel> model_;
  std::string task_;
};

double RelErr(const std::vector<float>& q, const std::vector<float>& f) {
  double num = 0, den = 0;
  for (size_t i = 0; i < std::min(q.size(), f.size()); ++i) {
    const double d = static_cast<double>(q[i]) - f[i];
    num += d * d;
    den += static_cast<double>(f[i]) * f[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// What a policy's observation holds: its cameras (keys and sizes), the state's length and, for
// SmolVLA, the flow-matching noise's length.
struct PolicyInputs {
  std::vector<models::Feature> cameras;
  int64_t state_dim = 0, noise = 0;
};

Result<PolicyInputs> LoadPolicyInputs(const std::string& type, const std::string& dir) {
  PolicyInputs in;
  if (type == "act") {
    EMBODY_ASSIGN_OR_RETURN(auto c, models::act::LoadActConfig(dir + "/config.json"));
    for (size_t i = 0; i < c.num_cameras(); ++i) in.cameras.push_back(c.camera(i));
    in.state_dim = c.state_dim();
  } else {
    EMBODY_ASSIGN_OR_RETURN(auto c, models::smolvla::LoadSmolVlaConfig(dir));
    for (size_t i = 0; i < c.num_cameras(); ++i) in.cameras.push_back(c.camera(i));
    in.state_dim = c.state_dim();
    in.noise = int64_t{c.chunk_size} * c.max_action_dim;
  }
  return in;
}

Result<std::vector<Sample>> MakeSamples(const std::string& type, const std::string& dir, const QuantizeRequest& r) {
  std::vector<Sample> samples(static_cast<size_t>(r.seeded_samples));
  EMBODY_ASSIGN_OR_RETURN(const PolicyInputs in, LoadPolicyInputs(type, dir));
  const std::vector<models::Feature>& cams = in.cameras;
  const int64_t state_dim = in.state_dim, noise = in.noise;
  for (int step = 0; step < r.seeded_samples; ++step) {
    Sample& s = samples[static_cast<size_t>(step)];
    for (const models::Feature& cam : cams) {
      const int h = static_cast<int>(cam.shape[1]), w = static_cast<int>(cam.shape[2]);
      s.images.emplace_back(static_cast<size_t>(h * w * 3));
      seeded::FillImage(step, cam.key, h, w, s.images.back().data());
      s.sizes.emplace_back(h, w);
    }
    s.state.resize(static_cast<size_t>(state_dim));
    seeded::FillState(step, static_cast<int>(state_dim), s.state.data());
    if (noise) {
      s.noise.resize(static_cast<size_t>(noise));
      seeded::FillWeight("noise." + std::to_string(step), Shape{noise, 1}, 0, s.noise.data());
    }
  }
  return samples;
}

// `count` frames of the dataset at global indices floor((i + phase) * frames / count): phase 0.25
// for calibration, 0.75 for evaluation, so the two sets interleave and do not overlap when the
// dataset has at least 2 * count frames. Cameras are the config's (same keys and sizes as the
// dataset's), the state is observation.state, SmolVLA's noise seeded as for seeded inputs.
// Returns {calibration, evaluation}; the dataset is opened and its columns read once for both.
struct DatasetSamples {
  std::vector<Sample> calibration, evaluation;
};
Result<DatasetSamples> MakeDatasetSamples(const std::string& type, const std::string& dir,
                                          const QuantizeRequest& r) {
  EMBODY_ASSIGN_OR_RETURN(const PolicyInputs in, LoadPolicyInputs(type, dir));
  const std::vector<models::Feature>& cams = in.cameras;
  const int64_t state_dim = in.state_dim, noise = in.noise;
  const std::string where = "--calib dataset:" + r.calib_dataset;
  EMBODY_ASSIGN_OR_RETURN(auto ds, data::Dataset::Open(r.calib_dataset));
  if (ds->num_frames() < 1) return InvalidArgument(where + ": the dataset has no frames");
  const std::vector<std::string> numeric = ds->numeric_keys();
  const bool has_state = std::find(numeric.begin(), numeric.end(), "observation.state") != numeric.end();
  if (state_dim > 0 && !has_state)
    return InvalidArgument(where + ": the policy takes observation.state but the dataset has no such column");
  auto reader = ds->NewFrameReader();
  DatasetSamples out;
  for (const auto& [phase, samples] : {std::pair<double, std::vector<Sample>*>{0.25, &out.calibration},
                                       std::pair<double, std::vector<Sample>*>{0.75, &out.evaluation}}) {
    samples->resize(static_cast<size_t>(r.dataset_samples));
    for (int i = 0; i < r.dataset_samples; ++i) {
      const auto index = std::min<int64_t>(
          ds->num_frames() - 1,
          static_cast<int64_t>((i + phase) * static_cast<double>(ds->num_frames()) / r.dataset_samples));
      EMBODY_ASSIGN_OR_RETURN(const int64_t episode, ds->EpisodeOf(index));
      const int64_t frame = index - ds->episodes()[static_cast<size_t>(episode)].from;
      Sample& s = (*samples)[static_cast<size_t>(i)];
      for (const models::Feature& cam : cams) {
        EMBODY_ASSIGN_OR_RETURN(io::Image img, reader->Image(cam.key, episode, frame));
        const int h = static_cast<int>(cam.shape[1]), w = static_cast<int>(cam.shape[2]);
        if (img.height != h || img.width != w)
          return InvalidArgument(where + ": camera " + cam.key + " frames are " + std::to_string(img.height) + "x" +
                                 std::to_string(img.width) + " but the policy takes " + std::to_string(h) + "x" +
                                 std::to_string(w));
        s.images.push_back(std::move(img.pixels));
        s.sizes.emplace_back(h, w);
      }
      if (state_dim > 0) {
        EMBODY_ASSIGN_OR_RETURN(s.state, ds->Value("observation.state", episode, frame));
        if (static_cast<int64_t>(s.state.size()) != state_dim)
          return InvalidArgument(where + ": observation.state has " + std::to_string(s.state.size()) +
                                 " values but the policy takes " + std::to_string(state_dim));
      }
      if (noise) {
        s.noise.resize(static_cast<size_t>(noise));
        seeded::FillWeight("noise." + std::to_string(i), Shape{noise, 1}, 0, s.noise.data());
      }
    }
  }
  return out;
}

using LoadFn = std::function<Result<std::unique_ptr<Runner>>(const std::string& dir, const std::string& plan,
                                                              models::QuantCapture* capture)>;

Result<std::vector<Outputs>> RunAll(Runner& runner, const std::vector<Sample>& samples, const ProgressFn& progress,
                                    const std::string& stage) {
  std::vector<Outputs> outs(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EMBODY_TRY_CTX(runner.Run(samples[i], &outs[i]), stage + ", sample " + std::to_string(i));
    if (progress) progress(stage, static_cast<int>(i + 1), static_cast<int>(samples.size()));
  }
  return outs;
}

Sensitivity Compare(const std::string& config, const std::vector<Outputs>& q, const std::vector<Outputs>& f) {
  Sensitivity s;
  s.config = config;
  std::vector<double> ms;
  double sum_abs = 0;
  size_t count = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    ms.push_back(q[i].ms);
    for (size_t b = 0; b < q[i].blocks.size() && b < f[i].blocks.size(); ++b) {
      double& e = s.block_rel_err[q[i].blocks[b].first];
      e = std::max(e, RelErr(q[i].blocks[b].second, f[i].blocks[b].second));
    }
    for (size_t k = 0; k < q[i].actions.size(); ++k) {
      const double d = std::fabs(static_cast<double>(q[i].actions[k]) - f[i].actions[k]);
      s.action_max_std = std::max(s.action_max_std, d);
      sum_abs += d;
      ++count;
    }
    s.expert_step_rel_err.resize(q[i].steps.size(), 0.0);
    for (size_t st = 0; st < q[i].steps.size() && st < f[i].steps.size(); ++st)
      s.expert_step_rel_err[st] = std::max(s.expert_step_rel_err[st], RelErr(q[i].steps[st], f[i].steps[st]));
  }
  s.action_mean_std = count ? sum_abs / static_cast<double>(count) : 0;
  std::sort(ms.begin(), ms.end());
  s.latency_ms = ms.empty() ? 0 : ms[ms.size() / 2];
  return s;
}

}  // namespace

Result<QuantizeResult> Quantize(const QuantizeRequest& r, const ProgressFn& progress) {
  if (r.output.empty()) return InvalidArgument("quantize: an output folder (-o) is required");
  if (r.seeded_samples < 1) return InvalidArgument("quantize: --calib needs at least one sample");
  if (r.output == r.checkpoint) return InvalidArgument("quantize: the output must differ from the source checkpoint");
  EMBODY_ASSIGN_OR_RETURN(io::Json cfg, io::ReadJsonFile(r.checkpoint + "/config.json"));
  const std::string type = cfg.value("type", "");
  if (type != "act" && type != "smolvla") {
    return InvalidArgument(r.checkpoint + "/config.json: field 'type' is '" + type + "'; quantize handles act and smolvla");
  }
  if (io::FileExists(r.checkpoint + "/" + models::kQuantMetadataFile)) {
    return InvalidArgument(r.checkpoint + " is already quantized; quantize its f32 source instead");
  }
  const std::vector<std::string> blocks = type == "act" ? models::act::ActBlocks() : models::smolvla::SmolVlaBlocks();
  EMBODY_ASSIGN_OR_RETURN(models::PrecisionPlan plan, models::PrecisionPlan::Parse(r.plan, blocks));
  if (plan.all_f32()) return InvalidArgument("quantize: the plan '" + r.plan + "' keeps every block f32; nothing to do");

  const LoadFn load = [&](const std::string& dir, const std::string& p, models::QuantCapture* cap) {
    return type == "act" ? ActRunner::Load(dir, r, p, cap) : SmolVlaRunner::Load(dir, r, p, cap);
  };
  // Evaluation samples (the report) and calibration samples: the same seeded inputs, or two
  // interleaved sets of dataset frames.
  std::vector<Sample> samples, calib_samples;
  if (r.calib_dataset.empty()) {
    EMBODY_ASSIGN_OR_RETURN(samples, MakeSamples(type, r.checkpoint, r));
    calib_samples = samples;
  } else {
    if (r.dataset_samples < 1) return InvalidArgument("quantize: --calib dataset needs at least one frame");
    EMBODY_ASSIGN_OR_RETURN(DatasetSamples both, MakeDatasetSamples(type, r.checkpoint, r));
    calib_samples = std::move(both.calibration);
    samples = std::move(both.evaluation);
  }
  QuantizeResult result;
  result.policy_type = type;
  result.plan = plan.ToString();

  std::vector<Outputs> reference;
  if (r.report) {
    EMBODY_ASSIGN_OR_RETURN(auto f32, load(r.checkpoint, "", nullptr));
    EMBODY_ASSIGN_OR_RETURN(reference, RunAll(*f32, samples, progress, "f32 reference"));
    result.f32_latency_ms = Compare("f32", reference, reference).latency_ms;
  }

  {  // Capture the packed ops (and activation ranges) and write the quantized checkpoint.
    models::QuantCapture capture;
    capture.observe = true;
    EMBODY_ASSIGN_OR_RETURN(auto runner, load(r.checkpoint, r.plan, &capture));
    EMBODY_ASSIGN_OR_RETURN(auto calib, RunAll(*runner, calib_samples, progress, "calibration"));
    runner.reset();
    EMBODY_ASSIGN_OR_RETURN(result.files, models::WriteQuantizedCheckpoint(r.checkpoint, r.output, type, result.plan,
                                                                           capture, r.static_activations));
  }
  result.source_model_bytes = result.files.source_model_bytes;

  // The written model, loaded back as users will: its errors are the plan's.
  EMBODY_ASSIGN_OR_RETURN(auto written, load(r.output, "", nullptr));
  for (const auto& [block, formats] : written->census())
    for (const auto& [f, n] : formats) result.census[block][kernels::WeightFormatName(f)] = n;
  if (!r.report) return result;
  EMBODY_ASSIGN_OR_RETURN(auto plan_out, RunAll(*written, samples, progress, "quantized model"));
  written.reset();

  // Each quantized block alone.
  for (const std::string& b : blocks) {
    const kernels::WeightFormat f = plan.blocks().at(b);
    if (f == kernels::WeightFormat::kF32) continue;
    const std::string one = b + "=" + kernels::WeightFormatName(f);
    if (one == result.plan) break;  // a one-block plan: the row below is the same
    EMBODY_ASSIGN_OR_RETURN(auto runner, load(r.checkpoint, one, nullptr));
    EMBODY_ASSIGN_OR_RETURN(auto outs, RunAll(*runner, samples, progress, one));
    result.sensitivity.push_back(Compare(one, outs, reference));
  }
  result.sensitivity.push_back(Compare(result.plan, plan_out, reference));
  return result;
}

}  // namespace embody::quantize
