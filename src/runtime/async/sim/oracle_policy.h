// OraclePolicy: the simulation's scripted expert as a chunking policy, for measuring the runtime
// without a trained model. PredictChunk rolls the expert forward `chunk_size` ticks on a private
// copy of the episode's physics state (the same privileged state the expert always reads), so a
// chunk is what the expert would do from the current state if the world went as planned. Its
// latency is a configured number, not measured.
//
// The expert is stateful (stage, segment start time), and its clock is the episode clock. The
// oracle keeps the expert's state at every step of the last rollout and resumes from the one at
// the new observation's timestep, on a shadow episode whose clock is that timestep: the oracle's
// clock is policy time (actions executed), so a robot that idles while waiting does not make the
// expert skip ahead in its plan.
//
// This lives beside the runtime, not in it: runtime never includes sim (docs/ARCHITECTURE.md).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "runtime/async/policy.h"
#include "sim/episode.h"
#include "sim/expert.h"

namespace embody::runtime::simrun {

class OraclePolicy : public Policy {
 public:
  // `episode` is the robot's episode (read only, privileged); it must outlive the policy.
  // bias_deg > 0 adds to every chunk a constant offset per arm joint, uniform in +-bias_deg and
  // seeded by (episode seed, timestep): consecutive chunks then disagree as a learned policy's do,
  // which is what aggregation and seam smoothing are for. The exact oracle's chunks agree.
  OraclePolicy(const sim::TeaBagTask& task, const sim::Episode& episode, int chunk_size, double latency_ms,
               double bias_deg = 0);

  std::string_view name() const override { return "oracle"; }
  int chunk_size() const override { return chunk_; }
  int action_dim() const override { return sim::kNumJoints; }
  // obs.timestep must not decrease within an episode; obs.state and images are not used.
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return latencies_; }
  void Reset() override;

 private:
  Status SyncShadow(int64_t timestep);

  const sim::TeaBagTask& task_;
  const sim::Episode& episode_;
  const int chunk_;
  const double bias_deg_;
  sim::Episode shadow_;
  std::optional<sim::Expert> expert_;
  std::vector<std::optional<sim::Expert>> states_;  // [chunk + 1]: before each rollout step, and after
  int64_t last_timestep_ = -1;
  std::vector<BlockLatency> latencies_;
};

}  // namespace embody::runtime::simrun
