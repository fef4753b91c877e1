// ScheduledActPolicy: ACT's blocks as scheduler tasks (issue 6): one ResNet backbone task per
// camera, then the transformer (encoder + decoder + head). Cameras are independent, so with two
// executors two cameras run at once, each on its own backbone replica (ActModel keeps one per
// executor: replica e belongs to executor e, and an executor runs one block at a time, so no two
// running blocks share a replica). The transformer waits for every camera.
//
// The chunk equals ActModel::Predict()'s (same kernels, same order within each block).
//
// Every op runs on the executor that built it (executor.h): the model is loaded on executor 0,
// which runs the transformer, and executor e builds replica e.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/act/act_model.h"
#include "runtime/async/policy.h"
#include "runtime/sched/block_scheduler.h"

namespace embody::runtime::sched {

class ScheduledActPolicy : public Policy {
 public:
  using Loader = std::function<Result<std::unique_ptr<models::act::ActModel>>()>;
  // Loads the model on executor 0 and one backbone replica on each further executor (up to the
  // number of cameras). If a replica fails (memory, a checkpoint format the replica cannot
  // rebuild), backbones stay on the executors that have one and replica_error() says why.
  static Result<std::unique_ptr<ScheduledActPolicy>> Create(const Loader& load, std::vector<Executor*> executors);

  ~ScheduledActPolicy() override;  // the model goes on the executor that built it

  std::string_view name() const override { return "act"; }
  int chunk_size() const override { return model_->config().chunk_size; }
  int n_action_steps() const override { return model_->config().n_action_steps; }
  int action_dim() const override { return static_cast<int>(model_->config().action_dim()); }
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return latencies_; }
  double last_total_ms() const override { return report_.makespan_ms; }

  const RunReport& last_report() const { return report_; }
  const std::string& replica_error() const { return replica_error_; }
  BlockScheduler& scheduler() { return *scheduler_; }
  models::act::ActModel& model() { return *model_; }

 private:
  ScheduledActPolicy() = default;

  std::unique_ptr<models::act::ActModel> model_;
  std::unique_ptr<BlockScheduler> scheduler_;
  models::act::ActObservation obs_;
  float* chunk_ = nullptr;
  std::vector<BlockLatency> latencies_;
  RunReport report_;
  std::string replica_error_;
};

}  // namespace embody::runtime::sched
