#include "runtime/async/sim/oracle_policy.h"

#include <string>

#include "sim/rng.h"

namespace embody::runtime::simrun {

OraclePolicy::OraclePolicy(const sim::TeaBagTask& task, const sim::Episode& episode, int chunk_size, double latency_ms,
                           double bias_deg)
    : task_(task), episode_(episode), chunk_(chunk_size), bias_deg_(bias_deg), shadow_(task), states_(chunk_size + 1) {
  latencies_.push_back({"oracle", latency_ms});
}

void OraclePolicy::Reset() {
  expert_.reset();
  for (auto& s : states_) s.reset();
  last_timestep_ = -1;
}

// Puts the episode's physics state on the shadow with the shadow's clock at `timestep` ticks.
// sim::Episode has no state copy or clock setter (src/sim/README.md lists mj_getState as not
// done), so the clock is advanced by stepping a reset shadow and the state copied over it.
Status OraclePolicy::SyncShadow(int64_t timestep) {
  if (shadow_.tick() > timestep || shadow_.spec().seed != episode_.spec().seed ||
      shadow_.spec().cluster != episode_.spec().cluster || shadow_.spec().recovery != episode_.spec().recovery) {
    EMBODY_TRY(shadow_.Reset(episode_.spec()));
  }
  const sim::JointVector hold = shadow_.last_action();
  while (shadow_.tick() < timestep) EMBODY_TRY(shadow_.Step(hold));
  // the shadow is ours and not const; Episode only exposes its mjData read-only
  mj_copyData(const_cast<mjData*>(shadow_.data()), task_.model(), episode_.data());
  return Status::Ok();
}

Status OraclePolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  if (obs.timestep < last_timestep_)
    return InvalidArgument("oracle: observation timestep " + std::to_string(obs.timestep) + " before the last one (" +
                           std::to_string(last_timestep_) + ")");
  // resume the expert where the last rollout had it at this timestep
  const int64_t step = last_timestep_ < 0 ? -1 : obs.timestep - last_timestep_;
  if (step >= 0 && step <= chunk_ && states_[step]) {
    expert_.emplace(*states_[step]);
  } else if (!expert_ || step > chunk_) {
    // first chunk, or the robot ran past the whole last rollout: the newest state we have
    if (last_timestep_ >= 0 && states_[chunk_]) {
      expert_.emplace(*states_[chunk_]);
    } else {
      expert_.emplace(task_);
      expert_->Reset();
    }
  }
  EMBODY_TRY_CTX(SyncShadow(obs.timestep), "oracle shadow");
  for (int i = 0; i < chunk_; ++i) {
    states_[i].emplace(*expert_);
    const sim::JointVector a = expert_->Act(shadow_);
    for (int d = 0; d < sim::kNumJoints; ++d) chunk[i * sim::kNumJoints + d] = a[d];
    EMBODY_TRY_CTX(shadow_.Step(a), "oracle rollout");
  }
  states_[chunk_].emplace(*expert_);
  last_timestep_ = obs.timestep;
  if (bias_deg_ > 0) {
    sim::Rng rng(episode_.spec().seed * 1000003ull + static_cast<uint64_t>(obs.timestep));
    for (int d = 0; d < 5; ++d) {  // arm joints; the gripper stays exact
      const float offset = static_cast<float>(rng.Uniform(-bias_deg_, bias_deg_));
      for (int i = 0; i < chunk_; ++i) chunk[i * sim::kNumJoints + d] += offset;
    }
  }
  return Status::Ok();
}

}  // namespace embody::runtime::simrun
