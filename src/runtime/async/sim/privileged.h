// The oracle across processes: the robot side captures the simulation's privileged state with
// each observation (CaptureSimState), the server side replays it into a mirror episode that an
// OraclePolicy reads (MirroredOraclePolicy). Used by `embody serve --policy oracle` and
// `embody run --policy grpc://...`, so the remote path can be measured without a trained model.
#pragma once

#include <memory>

#include "runtime/async/policy.h"
#include "runtime/async/sim/oracle_policy.h"
#include "sim/episode.h"

namespace embody::runtime::simrun {

// Episode spec and MuJoCo integration state (mj_getState, mjSTATE_INTEGRATION).
void CaptureSimState(const sim::Episode& episode, SimPrivileged* out);

class MirroredOraclePolicy : public Policy {
 public:
  MirroredOraclePolicy(const sim::TeaBagTask& task, int chunk_size, double latency_ms, double bias_deg = 0);

  std::string_view name() const override { return "oracle"; }
  int chunk_size() const override { return oracle_.chunk_size(); }
  int action_dim() const override { return oracle_.action_dim(); }
  // REQUIRES obs.sim (FailedPrecondition otherwise; InvalidArgument for a state of the wrong size).
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override;
  const std::vector<BlockLatency>& last_latencies() const override { return oracle_.last_latencies(); }
  void Reset() override { oracle_.Reset(); }

 private:
  const sim::TeaBagTask& task_;
  sim::Episode mirror_;
  OraclePolicy oracle_;  // reads mirror_
  bool mirror_ready_ = false;
};

}  // namespace embody::runtime::simrun
