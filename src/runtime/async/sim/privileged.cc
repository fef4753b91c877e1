#include "runtime/async/sim/privileged.h"

#include <mujoco/mujoco.h>

#include <string>

namespace embody::runtime::simrun {

void CaptureSimState(const sim::Episode& episode, SimPrivileged* out) {
  const mjModel* m = episode.task().model();
  out->seed = episode.spec().seed;
  out->cluster = episode.spec().cluster;
  out->recovery = episode.spec().recovery;
  out->physics.resize(static_cast<size_t>(mj_stateSize(m, mjSTATE_INTEGRATION)));
  mj_getState(m, episode.data(), out->physics.data(), mjSTATE_INTEGRATION);
}

MirroredOraclePolicy::MirroredOraclePolicy(const sim::TeaBagTask& task, int chunk_size, double latency_ms, double bias_deg)
    : task_(task), mirror_(task), oracle_(task, mirror_, chunk_size, latency_ms, bias_deg) {}

Status MirroredOraclePolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  if (!obs.sim)
    return FailedPrecondition("the oracle reads the simulation's privileged state, and the observation has none");
  const mjModel* m = task_.model();
  const size_t want = static_cast<size_t>(mj_stateSize(m, mjSTATE_INTEGRATION));
  if (obs.sim->physics.size() != want)
    return InvalidArgument("simulation state has " + std::to_string(obs.sim->physics.size()) + " values, this task's " +
                           std::to_string(want) + " (client and server run different scenes?)");
  const sim::EpisodeSpec spec{obs.sim->seed, obs.sim->cluster, obs.sim->recovery};
  const sim::EpisodeSpec& have = mirror_.spec();
  if (!mirror_ready_ || have.seed != spec.seed || have.cluster != spec.cluster || have.recovery != spec.recovery) {
    EMBODY_TRY_CTX(mirror_.Reset(spec), "oracle mirror");
    mirror_ready_ = true;
  }
  // the mirror is ours; Episode exposes its mjData read-only
  mjData* d = const_cast<mjData*>(mirror_.data());
  mj_setState(m, d, obs.sim->physics.data(), mjSTATE_INTEGRATION);
  mj_forward(m, d);
  return oracle_.PredictChunk(obs, chunk);
}

}  // namespace embody::runtime::simrun
