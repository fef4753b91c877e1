// SmolVlaChunkPolicy: runtime::Policy over a SmolVlaModel. The instruction is the observation's
// task, or the default given here when that is empty. Blocks: vision.<camera> each, llm, expert.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/smolvla/smolvla_model.h"
#include "runtime/async/policy.h"

namespace embody::runtime {

class SmolVlaChunkPolicy : public Policy {
 public:
  SmolVlaChunkPolicy(std::unique_ptr<models::smolvla::SmolVlaModel> model, std::string default_task);

  std::string_view name() const override { return "smolvla"; }
  int chunk_size() const override { return model_->config().chunk_size; }
  int n_action_steps() const override { return model_->config().n_action_steps; }
  int action_dim() const override { return static_cast<int>(model_->config().action_dim()); }
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return latencies_; }

  models::smolvla::SmolVlaModel& model() { return *model_; }

 private:
  std::unique_ptr<models::smolvla::SmolVlaModel> model_;
  std::string default_task_, task_;
  std::vector<models::smolvla::CameraImage> frames_;
  std::vector<BlockLatency> latencies_;
};

}  // namespace embody::runtime
