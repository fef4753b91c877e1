#include "runtime/async/smolvla_chunk_policy.h"

namespace embody::runtime {

SmolVlaChunkPolicy::SmolVlaChunkPolicy(std::unique_ptr<models::smolvla::SmolVlaModel> model, std::string default_task)
    : model_(std::move(model)), default_task_(std::move(default_task)) {
  const size_t cams = model_->config().num_cameras();
  frames_.resize(cams);
  for (size_t i = 0; i < cams; ++i) latencies_.push_back({"vision." + std::to_string(i), 0});
  latencies_.push_back({"llm", 0});
  latencies_.push_back({"expert", 0});
}

Status SmolVlaChunkPolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  if (obs.images.size() != frames_.size())
    return InvalidArgument("SmolVLA expects " + std::to_string(frames_.size()) + " camera images, got " +
                           std::to_string(obs.images.size()));
  for (size_t i = 0; i < frames_.size(); ++i)
    frames_[i] = {obs.images[i].pixels, obs.images[i].height, obs.images[i].width};
  // the task rarely changes: assign() reuses the string's capacity
  task_.assign(obs.task.empty() ? std::string_view(default_task_) : obs.task);
  EMBODY_TRY_CTX(model_->Predict(frames_, task_, obs.state, nullptr, chunk, nullptr), "SmolVLA chunk");
  const models::smolvla::SmolVlaTimes& t = model_->last_times();
  for (size_t i = 0; i < t.vision_ms.size() && i + 2 < latencies_.size(); ++i) latencies_[i].ms = t.vision_ms[i];
  latencies_[latencies_.size() - 2].ms = t.llm_ms;
  latencies_.back().ms = t.expert_ms;
  return Status::Ok();
}

}  // namespace embody::runtime
