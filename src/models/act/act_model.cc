#include "models/act/act_model.h"

#include <cmath>
#include <cstring>

#include "core/timer.h"
#include "models/act/act_backbone.h"
#include "models/act/act_transformer.h"
#include "models/act/act_weights.h"
#include "models/common/quantized_store.h"

namespace embody::models::act {

struct ActModel::ScratchOffsets {
  TransformerPlan plan;
  TransformerScratch bound;
};

ActModel::~ActModel() = default;

void SinusoidalPosition2d(int64_t h, int64_t w, int64_t dim, float* out) {
  // Float32 arithmetic in the order LeRobot's torch code uses.
  const int64_t half = dim / 2;
  const float two_pi = static_cast<float>(2 * M_PI);
  const float eps = 1e-6f;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t k = 0; k < half; ++k) {
    const float e = 2.0f * static_cast<float>(k / 2) / static_cast<float>(half);
    inv_freq[static_cast<size_t>(k)] = std::pow(10000.0f, e);
  }
  for (int64_t y = 0; y < h; ++y) {
    const float yv = static_cast<float>(y + 1) / (static_cast<float>(h) + eps) * two_pi;
    for (int64_t x = 0; x < w; ++x) {
      const float xv = static_cast<float>(x + 1) / (static_cast<float>(w) + eps) * two_pi;
      float* row = out + (y * w + x) * dim;
      for (int64_t k = 0; k < half; ++k) {
        const float fy = yv / inv_freq[static_cast<size_t>(k)];
        const float fx = xv / inv_freq[static_cast<size_t>(k)];
        row[k] = (k % 2 == 0) ? std::sin(fy) : std::cos(fy);
        row[half + k] = (k % 2 == 0) ? std::sin(fx) : std::cos(fx);
      }
    }
  }
}

namespace {

Result<std::unique_ptr<kernels::LinearOp>> LinearFrom(const WeightTable& w, OpFactory& factory, const char* block,
                                                      const std::string& prefix, int64_t m, int64_t n, int64_t k) {
  kernels::LinearParams p;
  p.m = m;
  p.n = n;
  p.k = k;
  return factory.Linear(block, prefix, {prefix + ".weight", prefix + ".bias"}, p, false, [&]() -> Result<DenseWeights> {
    EMBODY_ASSIGN_OR_RETURN(Tensor weight, w.ReadF32(prefix + ".weight"));
    EMBODY_ASSIGN_OR_RETURN(Tensor bias, w.ReadF32(prefix + ".bias"));
    DenseWeights d;
    d.weight.assign(weight.data<float>(), weight.data<float>() + weight.numel());
    d.bias.assign(bias.data<float>(), bias.data<float>() + bias.numel());
    return d;
  });
}

// Rewrites the VISUAL inputs for a benchmark override. Returns (existing key, new key) pairs
// whose statistics must be shared.
Result<std::vector<std::pair<std::string, std::string>>> ApplyCameraOverride(ActConfig& c, const ActOptions& o) {
  if (c.num_cameras() == 0) return InvalidArgument("camera override: the checkpoint has no cameras");
  const Feature first = c.camera(0);
  const int n = o.override_cameras > 0 ? o.override_cameras : static_cast<int>(c.num_cameras());
  const int64_t h = o.override_height > 0 ? o.override_height : first.shape[1];
  const int64_t w = o.override_width > 0 ? o.override_width : first.shape[2];
  std::vector<Feature> inputs;
  std::vector<std::pair<std::string, std::string>> aliases;
  int added = 0;
  for (const Feature& f : c.inputs) {
    if (f.type != FeatureType::kVisual) {
      inputs.push_back(f);
    } else if (added < n) {
      inputs.push_back(Feature{f.key, f.type, {3, h, w}});
      ++added;
    }
  }
  for (; added < n; ++added) {
    const std::string key = first.key + "_bench" + std::to_string(added);
    inputs.push_back(Feature{key, FeatureType::kVisual, {3, h, w}});
    aliases.emplace_back(first.key, key);
  }
  c.inputs = inputs;
  EMBODY_TRY(ResolveFeatures(c, "camera override"));
  return aliases;
}

}  // namespace

Result<std::unique_ptr<ActModel>> ActModel::Load(const std::string& dir, const ActOptions& options) {
  std::unique_ptr<ActModel> m(new ActModel());
  m->dir_ = dir;
  m->options_ = options;
  m->pool_ = ThreadPool(options.threads);
  m->pool_.BindToCallingThread();
  EMBODY_ASSIGN_OR_RETURN(m->config_, LoadActConfig(dir + "/config.json"));
  std::vector<std::pair<std::string, std::string>> stat_aliases;
  if (options.override_cameras > 0 || options.override_height > 0 || options.override_width > 0) {
    EMBODY_ASSIGN_OR_RETURN(stat_aliases, ApplyCameraOverride(m->config_, options));
  }
  const ActConfig& c = m->config_;
  EMBODY_ASSIGN_OR_RETURN(m->file_, io::SafetensorsFile::Open(dir + "/model.safetensors"));
  m->weights_ = MakeActWeightTable(c);
  EMBODY_ASSIGN_OR_RETURN(std::unique_ptr<QuantizedStore> store, QuantizedStore::Open(dir, "act"));
  PrecisionPlan plan;
  if (store) {
    m->weights_.SetSuperseded(store->superseded());
    EMBODY_ASSIGN_OR_RETURN(plan, PrecisionPlan::Parse(store->plan_text(), ActBlocks()));
    if (!options.plan.empty() && options.plan != store->plan_text()) {
      EMBODY_ASSIGN_OR_RETURN(PrecisionPlan asked, PrecisionPlan::Parse(options.plan, ActBlocks()));
      if (asked.ToString() != plan.ToString()) {
        return InvalidArgument(dir + " is quantized with plan '" + plan.ToString() + "'; --plan '" + options.plan +
                               "' differs (quantize the source checkpoint again for another plan)");
      }
    }
  } else {
    EMBODY_ASSIGN_OR_RETURN(plan, PrecisionPlan::Parse(options.plan, ActBlocks()));
  }
  if (c.num_cameras() == 0 && plan.blocks().at("backbone") != kernels::WeightFormat::kF32)
    return InvalidArgument(dir + ": the plan sets backbone=" +
                           std::string(kernels::WeightFormatName(plan.blocks().at("backbone"))) +
                           ", but this checkpoint has no cameras and so no backbone; plan its encoder and decoder");
  m->plan_text_ = plan.ToString();
  EMBODY_TRY(m->weights_.Bind(m->file_));
  FactoryOptions fo;
  fo.backend = options.backend;
  fo.plan = &plan;
  fo.store = store.get();
  fo.capture = options.capture;
  fo.static_activations = store && store->static_activations();
  OpFactory factory(fo);
  EMBODY_ASSIGN_OR_RETURN(m->normalizer_, Normalizer::Load(dir, c.inputs, c.outputs, c.normalization, *m->file_));

  for (const auto& [from, to] : stat_aliases) m->normalizer_.CopyStats(from, to);

  const int64_t d = c.dim_model, ncam = static_cast<int64_t>(c.num_cameras());
  Arena& arena = m->arena_;
  int64_t img_h = 0, img_w = 0;
  if (ncam > 0) {
    img_h = c.camera(0).shape[1];
    img_w = c.camera(0).shape[2];
    auto bb = ResNetBackbone::Create(c, m->weights_, factory, img_h, img_w, options.winograd, arena);
    if (!bb.ok()) return bb.status().WithContext(dir + ": backbone for " + std::to_string(img_h) + "x" + std::to_string(img_w));
    m->backbone_ = std::move(*bb);
    m->img_tokens_ = m->backbone_->out_h() * m->backbone_->out_w();
    // The 1x1 projection conv is a linear layer over all cameras' tokens at once.
    EMBODY_ASSIGN_OR_RETURN(m->img_proj_, LinearFrom(m->weights_, factory, "encoder", "model.encoder_img_feat_input_proj",
                                                     ncam * m->img_tokens_, d, ResNetBackbone::kOutChannels));
  }
  const int64_t n1d = c.num_1d_tokens();
  m->seq_ = n1d + ncam * m->img_tokens_;
  if (c.state()) {
    EMBODY_ASSIGN_OR_RETURN(m->state_proj_, LinearFrom(m->weights_, factory, "encoder", "model.encoder_robot_state_input_proj", 1, d, c.state_dim()));
  }
  if (c.env_state()) {
    EMBODY_ASSIGN_OR_RETURN(m->env_proj_, LinearFrom(m->weights_, factory, "encoder", "model.encoder_env_state_input_proj", 1, d, c.env_state_dim()));
  }
  EMBODY_ASSIGN_OR_RETURN(m->head_, LinearFrom(m->weights_, factory, "decoder", "model.action_head", c.chunk_size, c.action_dim(), d));

  {  // The latent is zero at inference: its token is the projection's bias (W·0 + b).
    EMBODY_ASSIGN_OR_RETURN(Tensor b, m->weights_.ReadF32("model.encoder_latent_input_proj.bias"));
    m->latent_token_.assign(b.data<float>(), b.data<float>() + d);
  }
  {  // Positions: learned 1D rows, then the same 2D sinusoid for every camera.
    m->pos_.assign(static_cast<size_t>(m->seq_ * d), 0.0f);
    EMBODY_ASSIGN_OR_RETURN(Tensor p1d, m->weights_.ReadF32("model.encoder_1d_feature_pos_embed.weight"));
    std::memcpy(m->pos_.data(), p1d.data<float>(), static_cast<size_t>(n1d * d) * 4);
    for (int64_t cam = 0; cam < ncam; ++cam)
      SinusoidalPosition2d(m->backbone_->out_h(), m->backbone_->out_w(), d,
                           m->pos_.data() + (n1d + cam * m->img_tokens_) * d);
    EMBODY_ASSIGN_OR_RETURN(Tensor qp, m->weights_.ReadF32("model.decoder_pos_embed.weight"));
    m->query_pos_.assign(qp.data<float>(), qp.data<float>() + qp.numel());
  }
  EMBODY_ASSIGN_OR_RETURN(m->encoder_, ActEncoder::Create(c, m->weights_, factory, m->seq_));
  EMBODY_ASSIGN_OR_RETURN(m->decoder_, ActDecoder::Create(c, m->weights_, factory, m->seq_));
  EMBODY_TRY(factory.CheckPlanFullyUsed());
  m->census_ = factory.census();

  auto r = [&](int64_t floats) { return arena.Reserve(static_cast<size_t>(std::max<int64_t>(floats, 1)) * 4); };
  m->off_.image = r(3 * img_h * img_w);
  m->off_.cam_tokens = r(ncam * m->img_tokens_ * ResNetBackbone::kOutChannels);
  m->off_.x = r(m->seq_ * d);
  m->off_.x_alt = r(m->seq_ * d);
  m->off_.enc_pos_sum = r(m->seq_ * d);
  m->off_.y = r(c.chunk_size * d);
  m->off_.y_alt = r(c.chunk_size * d);
  m->off_.normalized = r(c.chunk_size * c.action_dim());
  m->off_.state = r(std::max(c.state_dim(), c.env_state_dim()));
  m->scratch_ = std::make_unique<ScratchOffsets>();
  m->scratch_->plan = TransformerPlan::Reserve(arena, std::max<int64_t>(m->seq_, c.chunk_size), m->seq_, d,
                                               c.dim_feedforward);
  arena.Commit();
  m->scratch_->bound = m->scratch_->plan.Bind(arena);
  if (m->backbone_) m->backbone_->BindArena(arena);
  m->times_.backbone_ms.assign(static_cast<size_t>(ncam), 0.0);
  // Every weight is packed into the kernels now: the mapping is no longer needed.
  m->weights_.ReleaseFile();
  m->file_.reset();
  return m;
}

Status ActModel::ValidateImage(const CameraFrame& f, size_t camera) const {
  const Feature& cam = config_.camera(camera);
  if (!f.pixels) return InvalidArgument(cam.key + ": no image data");
  if (f.height != cam.shape[1] || f.width != cam.shape[2])
    return InvalidArgument(cam.key + ": image is " + std::to_string(f.height) + "x" + std::to_string(f.width) +
                           " (HxW), the checkpoint was trained on " + std::to_string(cam.shape[1]) + "x" +
                           std::to_string(cam.shape[2]));
  return Status::Ok();
}

Status ActModel::Validate(const ActObservation& obs) const {
  const ActConfig& c = config_;
  if (obs.images.size() != c.num_cameras())
    return InvalidArgument("ACT expects " + std::to_string(c.num_cameras()) + " camera image(s), got " +
                           std::to_string(obs.images.size()));
  for (size_t i = 0; i < obs.images.size(); ++i) EMBODY_TRY(ValidateImage(obs.images[i], i));
  auto check_vector = [](const float* v, int64_t n, const std::string& key) -> Status {
    if (n == 0) return Status::Ok();
    if (!v) return InvalidArgument(key + " is required by this checkpoint but was not given");
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i]))
        return InvalidArgument(key + "[" + std::to_string(i) + "] is " + (std::isnan(v[i]) ? "NaN" : "infinite"));
    return Status::Ok();
  };
  EMBODY_TRY(check_vector(obs.state, c.state_dim(), "observation.state"));
  EMBODY_TRY(check_vector(obs.env_state, c.env_state_dim(), "observation.environment_state"));
  return Status::Ok();
}

void ActModel::PreprocessImage(const CameraFrame& frame, size_t camera, float* chw) const {
  const int64_t hw = static_cast<int64_t>(frame.height) * frame.width;
  const FeatureNorm* norm = normalizer_.Find(config_.camera(camera).key);
  // uint8 -> float/255 -> (x - mean[c]) / (std[c] + eps), HWC -> CHW.
  float offset[3] = {0, 0, 0}, denom[3] = {1, 1, 1};
  bool affine = false;
  bool minmax = false;
  if (norm && norm->mode != NormMode::kIdentity && !norm->stats_missing) {
    affine = true;
    minmax = norm->mode != NormMode::kMeanStd;
    for (int ch = 0; ch < 3; ++ch) {
      offset[ch] = norm->offset[static_cast<size_t>(ch)];
      denom[ch] = minmax ? norm->scale[static_cast<size_t>(ch)] : norm->scale[static_cast<size_t>(ch)] + norm->eps;
    }
  }
  const uint8_t* px = frame.pixels;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < hw; ++i) {
    for (int ch = 0; ch < 3; ++ch) {
      float v = static_cast<float>(px[i * 3 + ch]) / 255.0f;
      if (affine) v = minmax ? 2.0f * (v - offset[ch]) / denom[ch] - 1.0f : (v - offset[ch]) / denom[ch];
      chw[ch * hw + i] = v;
    }
  }
}

void ActModel::RunEncoderDecoder(const ActObservation& obs, float* actions, float* normalized) {
  const ActConfig& c = config_;
  const int64_t d = c.dim_model, n1d = c.num_1d_tokens(), a_dim = c.action_dim();
  const float* cam_tokens = arena_.At<float>(off_.cam_tokens);
  // Encoder tokens: [latent, state, env_state, camera tokens...].
  Stopwatch enc_sw;
  float* x = arena_.At<float>(off_.x);
  std::memcpy(x, latent_token_.data(), static_cast<size_t>(d) * 4);
  int64_t row = 1;
  float* vec = arena_.At<float>(off_.state);
  if (state_proj_) {
    std::memcpy(vec, obs.state, static_cast<size_t>(c.state_dim()) * 4);
    if (const FeatureNorm* f = normalizer_.Find("observation.state")) Normalizer::Normalize(*f, vec, c.state_dim());
    state_proj_->Run(vec, x + row * d);
    ++row;
  }
  if (env_proj_) {
    std::memcpy(vec, obs.env_state, static_cast<size_t>(c.env_state_dim()) * 4);
    if (const FeatureNorm* f = normalizer_.Find("observation.environment_state"))
      Normalizer::Normalize(*f, vec, c.env_state_dim());
    env_proj_->Run(vec, x + row * d);
    ++row;
  }
  if (img_proj_) img_proj_->Run(cam_tokens, x + n1d * d);
  const TransformerScratch& s = scratch_->bound;
  float* enc = encoder_->Run(x, arena_.At<float>(off_.x_alt), pos_.data(), s);
  times_.encoder_ms = enc_sw.ElapsedMs();

  // Decoder over zero queries, then the action head.
  Stopwatch dec_sw;
  float* enc_pos = arena_.At<float>(off_.enc_pos_sum);
  AddInto(enc, pos_.data(), enc_pos, seq_ * d);
  float* y = decoder_->Run(enc, enc_pos, query_pos_.data(), arena_.At<float>(off_.y), arena_.At<float>(off_.y_alt), s);
  float* out = arena_.At<float>(off_.normalized);
  head_->Run(y, out);
  outputs_ = {cam_tokens, static_cast<int64_t>(obs.images.size()) * img_tokens_ * ResNetBackbone::kOutChannels,
              enc, seq_ * d, y, c.chunk_size * d};
  const size_t out_bytes = static_cast<size_t>(c.chunk_size * a_dim) * 4;
  if (normalized) std::memcpy(normalized, out, out_bytes);
  if (actions) {
    std::memcpy(actions, out, out_bytes);
    if (const FeatureNorm* f = normalizer_.Find("action"))
      for (int64_t t = 0; t < c.chunk_size; ++t) Normalizer::Unnormalize(*f, actions + t * a_dim, a_dim);
  }
  times_.decoder_ms = dec_sw.ElapsedMs();
}

Status ActModel::Predict(const ActObservation& obs, float* actions, float* normalized) {
  EMBODY_TRY(Validate(obs));
  pool_.BindToCallingThread();
  Stopwatch total;

  // Vision: one backbone pass per camera, tokens written camera after camera.
  float* cam_tokens = arena_.At<float>(off_.cam_tokens);
  for (size_t cam = 0; cam < obs.images.size(); ++cam) {
    Stopwatch sw;
    float* image = arena_.At<float>(off_.image);
    PreprocessImage(obs.images[cam], cam, image);
    backbone_->Run(image, cam_tokens + static_cast<int64_t>(cam) * img_tokens_ * ResNetBackbone::kOutChannels);
    times_.backbone_ms[cam] = sw.ElapsedMs();
  }

  RunEncoderDecoder(obs, actions, normalized);
  times_.total_ms = total.ElapsedMs();
  return Status::Ok();
}

}  // namespace embody::models::act
