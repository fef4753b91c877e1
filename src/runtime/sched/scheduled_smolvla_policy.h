// ScheduledSmolVlaPolicy: SmolVLA's three blocks as scheduler tasks, the vision block at a lower
// rate than the LLM prefill and the action expert (issue 6).
//
//   vision  EncodeImages  (every camera; SmolVlaModel has one vision encoder, so one task)
//   llm     Prefill       (image tokens + task + the CURRENT state -> prefix KV cache)
//   expert  Denoise       (flow matching over the prefix -> chunk)
//
// The prefix's image tokens come from the vision block; the state token is refreshed every
// chunk. So skipping the vision block yields a chunk planned from the current joint state and the
// last encoded images, for llm + expert time only. When the vision block runs:
//   * every `vision_every`-th inference (1: always, LeRobot's behaviour);
//   * also, with `adaptive`, whenever the full path fits the latency budget the queue leaves
//     (Policy::SetLatencyBudget), and never later than `max_vision_age` inferences;
//   * always on the first inference after Reset().
// Each block runs with its executor's thread count (SmolVlaModel::set_threads). The model is
// built on executor 0 and its blocks run there (executor.h: ops run where they were built; one
// SmolVlaModel builds all three blocks at load).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/smolvla/smolvla_model.h"
#include "runtime/async/policy.h"
#include "runtime/sched/block_scheduler.h"

namespace embody::runtime::sched {

struct SmolVlaScheduleOptions {
  int vision_every = 1;     // >= 1
  bool adaptive = false;    // refresh vision whenever the budget allows it
  int max_vision_age = 4;   // adaptive: refresh at least this often (inferences)
};

class ScheduledSmolVlaPolicy : public Policy {
 public:
  using Loader = std::function<Result<std::unique_ptr<models::smolvla::SmolVlaModel>>()>;
  // Runs `load` on executor 0.
  static Result<std::unique_ptr<ScheduledSmolVlaPolicy>> Create(const Loader& load, std::string default_task,
                                                                std::vector<Executor*> executors,
                                                                const SmolVlaScheduleOptions& options);

  ~ScheduledSmolVlaPolicy() override;

  std::string_view name() const override { return "smolvla"; }
  int chunk_size() const override { return model_->config().chunk_size; }
  int n_action_steps() const override { return model_->config().n_action_steps; }
  int action_dim() const override { return static_cast<int>(model_->config().action_dim()); }
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return latencies_; }
  double last_total_ms() const override { return report_.makespan_ms; }
  void SetLatencyBudget(double ms) override { budget_ms_ = ms; }
  void Reset() override;

  const RunReport& last_report() const { return report_; }
  bool last_reused_vision() const { return reused_; }
  int vision_runs() const { return vision_runs_; }
  int inferences() const { return inferences_; }
  BlockScheduler& scheduler() { return *scheduler_; }
  models::smolvla::SmolVlaModel& model() { return *model_; }

 private:
  ScheduledSmolVlaPolicy() = default;
  bool WantVision() const;

  std::unique_ptr<models::smolvla::SmolVlaModel> model_;
  std::unique_ptr<BlockScheduler> scheduler_;
  SmolVlaScheduleOptions options_;
  std::string default_task_, task_;
  std::vector<models::smolvla::CameraImage> frames_;
  const float* state_ = nullptr;
  float* chunk_ = nullptr;
  std::vector<BlockLatency> latencies_;
  RunReport report_;
  double budget_ms_ = 0;
  bool have_tokens_ = false, reused_ = false;
  int age_ = 0, vision_runs_ = 0, inferences_ = 0;
};

}  // namespace embody::runtime::sched
