#include "runtime/async/act_chunk_policy.h"

#include <string>

namespace embody::runtime {

ActChunkPolicy::ActChunkPolicy(std::unique_ptr<models::act::ActModel> model) : model_(std::move(model)) {
  const size_t cams = model_->config().num_cameras();
  act_obs_.images.resize(cams);
  for (size_t i = 0; i < cams; ++i) latencies_.push_back({"backbone." + std::to_string(i), 0});
  latencies_.push_back({"encoder", 0});
  latencies_.push_back({"decoder", 0});
}

Status ActChunkPolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  if (obs.images.size() != act_obs_.images.size())
    return InvalidArgument("ACT expects " + std::to_string(act_obs_.images.size()) + " camera images, got " +
                           std::to_string(obs.images.size()));
  for (size_t i = 0; i < obs.images.size(); ++i)
    act_obs_.images[i] = {obs.images[i].pixels, obs.images[i].height, obs.images[i].width};
  act_obs_.state = obs.state;
  act_obs_.env_state = obs.env_state;
  EMBODY_TRY_CTX(model_->Predict(act_obs_, chunk, nullptr), "ACT chunk");
  const models::act::ActBlockTimes& t = model_->last_times();
  for (size_t i = 0; i < t.backbone_ms.size() && i + 2 < latencies_.size(); ++i) latencies_[i].ms = t.backbone_ms[i];
  latencies_[latencies_.size() - 2].ms = t.encoder_ms;
  latencies_.back().ms = t.decoder_ms;
  return Status::Ok();
}

}  // namespace embody::runtime
