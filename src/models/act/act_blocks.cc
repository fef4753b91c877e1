// ActModel's per-block entry points for a scheduler (issue 6): one ResNet pass per camera, then
// the transformer. Kept out of act_model.cc so that Predict() stays the one reference path; the
// parity tests compare the two (tests/runtime/scheduler_policy_test.cc).
#include <cstring>
#include <string>

#include "core/timer.h"
#include "models/act/act_backbone.h"
#include "models/act/act_model.h"
#include "models/act/act_transformer.h"
#include "models/act/act_weights.h"
#include "models/common/quantized_store.h"

namespace embody::models::act {

// A second ResNet with its own packed weights and scratch, so two cameras can run at once.
struct ActModel::BackboneReplica {
  Arena arena;
  std::unique_ptr<ResNetBackbone> backbone;
  size_t image = 0;  // [3, H, W] preprocessed camera image
};

Status ActModel::AddBackboneReplicas(int count) {
  if (count <= 0) return Status::Ok();
  if (!backbone_) return FailedPrecondition(dir_ + ": the checkpoint has no cameras, there is no backbone to replicate");
  // The weights were released after packing: map the file again and build the replicas' ops
  // through the same factory setup as Load() (the precision plan in effect, a quantized
  // checkpoint's packed ops).
  EMBODY_ASSIGN_OR_RETURN(auto file, io::SafetensorsFile::Open(dir_ + "/model.safetensors"));
  EMBODY_ASSIGN_OR_RETURN(std::unique_ptr<QuantizedStore> store, QuantizedStore::Open(dir_, "act"));
  WeightTable table = MakeActWeightTable(config_);
  if (store) table.SetSuperseded(store->superseded());
  EMBODY_TRY_CTX(table.Bind(file), "backbone replica");
  EMBODY_ASSIGN_OR_RETURN(PrecisionPlan plan, PrecisionPlan::Parse(plan_text_, ActBlocks()));
  FactoryOptions fo;
  fo.backend = options_.backend;
  fo.plan = &plan;
  fo.store = store.get();
  fo.static_activations = store && store->static_activations();
  OpFactory factory(fo);
  const int64_t h = config_.camera(0).shape[1], w = config_.camera(0).shape[2];
  for (int i = 0; i < count; ++i) {
    auto r = std::make_shared<BackboneReplica>();
    auto bb = ResNetBackbone::Create(config_, table, factory, h, w, options_.winograd, r->arena);
    if (!bb.ok()) return bb.status().WithContext(dir_ + ": backbone replica " + std::to_string(i + 1));
    r->backbone = std::move(*bb);
    r->image = r->arena.Reserve(static_cast<size_t>(3 * h * w) * 4);
    r->arena.Commit();
    r->backbone->BindArena(r->arena);
    replicas_.push_back(std::move(r));
  }
  return Status::Ok();
}

Status ActModel::RunBackbone(const ActObservation& obs, size_t camera, int replica) {
  const size_t ncam = config_.num_cameras();
  if (camera >= ncam || camera >= obs.images.size())
    return InvalidArgument("camera " + std::to_string(camera) + " out of range: the checkpoint has " +
                           std::to_string(ncam) + " camera(s), the observation " + std::to_string(obs.images.size()));
  if (replica < 0 || replica >= backbone_replicas())
    return InvalidArgument("backbone replica " + std::to_string(replica) + " out of range [0, " +
                           std::to_string(backbone_replicas()) + ")");
  const Feature& cam = config_.camera(camera);
  const CameraFrame& f = obs.images[camera];
  if (!f.pixels) return InvalidArgument(cam.key + ": no image data");
  if (f.height != cam.shape[1] || f.width != cam.shape[2])
    return InvalidArgument(cam.key + ": image is " + std::to_string(f.height) + "x" + std::to_string(f.width) +
                           " (HxW), the checkpoint was trained on " + std::to_string(cam.shape[1]) + "x" +
                           std::to_string(cam.shape[2]));
  Stopwatch sw;
  float* tokens = arena_.At<float>(off_.cam_tokens) + static_cast<int64_t>(camera) * img_tokens_ * ResNetBackbone::kOutChannels;
  if (replica == 0) {
    float* image = arena_.At<float>(off_.image);
    PreprocessImage(f, camera, image);
    backbone_->Run(image, tokens);
  } else {
    BackboneReplica& r = *replicas_[static_cast<size_t>(replica - 1)];
    float* image = r.arena.At<float>(r.image);
    PreprocessImage(f, camera, image);
    r.backbone->Run(image, tokens);
  }
  times_.backbone_ms[camera] = sw.ElapsedMs();  // one element per camera: concurrent cameras do not share it
  return Status::Ok();
}

Status ActModel::RunTransformer(const ActObservation& obs, float* actions, float* normalized) {
  EMBODY_TRY(Validate(obs));
  const ActConfig& c = config_;
  const int64_t d = c.dim_model, n1d = c.num_1d_tokens(), a_dim = c.action_dim();
  // Same steps and order as Predict() after its backbone loop.
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
  if (img_proj_) img_proj_->Run(arena_.At<float>(off_.cam_tokens), x + n1d * d);
  const TransformerScratch& s = transformer_scratch();
  float* enc = encoder_->Run(x, arena_.At<float>(off_.x_alt), pos_.data(), s);
  times_.encoder_ms = enc_sw.ElapsedMs();

  Stopwatch dec_sw;
  float* enc_pos = arena_.At<float>(off_.enc_pos_sum);
  AddInto(enc, pos_.data(), enc_pos, seq_ * d);
  float* y = decoder_->Run(enc, enc_pos, query_pos_.data(), arena_.At<float>(off_.y), arena_.At<float>(off_.y_alt), s);
  float* out = arena_.At<float>(off_.normalized);
  head_->Run(y, out);
  const size_t out_bytes = static_cast<size_t>(c.chunk_size * a_dim) * 4;
  if (normalized) std::memcpy(normalized, out, out_bytes);
  if (actions) {
    std::memcpy(actions, out, out_bytes);
    if (const FeatureNorm* f = normalizer_.Find("action"))
      for (int64_t t = 0; t < c.chunk_size; ++t) Normalizer::Unnormalize(*f, actions + t * a_dim, a_dim);
  }
  times_.decoder_ms = dec_sw.ElapsedMs();
  return Status::Ok();
}

}  // namespace embody::models::act
