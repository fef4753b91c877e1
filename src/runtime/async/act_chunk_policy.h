// ActChunkPolicy: runtime::Policy over an ActModel. One PredictChunk = one forward pass; the
// chunk is the model's whole chunk_size in robot units (the queue, not ACT's n_action_steps,
// decides how much of it runs). Blocks: backbone.<camera> each, encoder, decoder.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "models/act/act_model.h"
#include "runtime/async/policy.h"

namespace embody::runtime {

class ActChunkPolicy : public Policy {
 public:
  explicit ActChunkPolicy(std::unique_ptr<models::act::ActModel> model);

  std::string_view name() const override { return "act"; }
  int chunk_size() const override { return model_->config().chunk_size; }
  int n_action_steps() const override { return model_->config().n_action_steps; }
  int action_dim() const override { return static_cast<int>(model_->config().action_dim()); }
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return latencies_; }

  models::act::ActModel& model() { return *model_; }

 private:
  std::unique_ptr<models::act::ActModel> model_;
  models::act::ActObservation act_obs_;  // reused: its image vector keeps its capacity
  std::vector<BlockLatency> latencies_;  // names fixed at construction, times overwritten
};

}  // namespace embody::runtime
