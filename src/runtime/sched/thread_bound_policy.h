// ThreadBoundPolicy: a policy built, run and destroyed on a thread of its own, so that any thread
// may call it (the inference thread of AsyncInference, a gRPC handler, the main thread).
//
// Why: a model's kernels must run on the thread that built them (Debian's oneDNN keeps a
// primitive's scratchpad in the creating thread's storage; ACT built on the main thread and run
// from another thread crashes in the first convolution, see executor.h). Each call hops to the
// policy's thread and back (a mutex and a condition variable, microseconds per chunk).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "runtime/async/policy.h"
#include "runtime/sched/executor.h"

namespace embody::runtime::sched {

class ThreadBoundPolicy : public Policy {
 public:
  using Factory = std::function<Result<std::unique_ptr<Policy>>()>;
  // Runs `make` on a new CpuExecutor of `threads` OpenMP threads (<= 0: all available cores).
  static Result<std::unique_ptr<ThreadBoundPolicy>> Create(const Factory& make, int threads);
  ~ThreadBoundPolicy() override;  // destroys the inner policy on its thread

  std::string_view name() const override { return inner_->name(); }
  int chunk_size() const override { return inner_->chunk_size(); }
  int n_action_steps() const override { return inner_->n_action_steps(); }
  int action_dim() const override { return inner_->action_dim(); }
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return inner_->last_latencies(); }
  double last_total_ms() const override { return inner_->last_total_ms(); }
  void SetLatencyBudget(double ms) override { budget_ms_ = ms; }  // passed on with the next chunk
  void Reset() override;

  Policy& inner() { return *inner_; }

 private:
  ThreadBoundPolicy() = default;
  std::unique_ptr<CpuExecutor> thread_;  // declared first: outlives inner_
  std::unique_ptr<Policy> inner_;
  double budget_ms_ = 0;
};

}  // namespace embody::runtime::sched
