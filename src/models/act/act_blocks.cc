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
  const CameraFrame& f = obs.images[camera];
  EMBODY_TRY(ValidateImage(f, camera));
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
  RunEncoderDecoder(obs, actions, normalized);
  return Status::Ok();
}

}  // namespace embody::models::act
