// runtime::Policy: anything that turns one observation into a chunk of future actions.
//
// ACT and SmolVLA implement it over their models (act_chunk_policy.h, smolvla_chunk_policy.h);
// the simulation's scripted oracle implements it in async/sim/. The action queue and the runners
// see only this interface; the scheduled policies (runtime/sched) and the remote policy
// (serve/remote_policy.h) implement it too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace embody::runtime {

// One camera frame: 8-bit RGB, HWC, rows top to bottom (robot units).
struct PolicyImage {
  const uint8_t* pixels = nullptr;
  int height = 0, width = 0;
};

// The simulation's privileged state, for policies that read the world directly (the oracle)
// when they run in another process: the episode and its MuJoCo integration state.
struct SimPrivileged {
  uint64_t seed = 0;
  int cluster = 0;
  bool recovery = false;
  std::vector<double> physics;  // mj_getState(mjSTATE_INTEGRATION)
};

struct PolicyObservation {
  std::vector<PolicyImage> images;  // one per camera the policy expects, in its order
  const float* state = nullptr;     // [state_dim] robot units, or null for stateless policies
  // observation.environment_state (a simulation's privileged object pose), or null; policies
  // whose checkpoint has no such input ignore it.
  const float* env_state = nullptr;
  std::string_view task;            // language instruction (VLAs); ignored by ACT
  // LeRobot's observation timestep: the timestep of the last executed action (0 before any).
  // Action i of the predicted chunk is tagged timestep + i.
  int64_t timestep = 0;
  const SimPrivileged* sim = nullptr;  // simulation only, for privileged remote policies
};

// Wall time of one block of the last prediction (e.g. "backbone.0", "encoder", "llm").
struct BlockLatency {
  std::string name;
  double ms = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;

  virtual std::string_view name() const = 0;
  virtual int chunk_size() const = 0;
  virtual int action_dim() const = 0;
  // Actions a synchronous loop executes from each chunk before it predicts again (LeRobot's
  // n_action_steps; select_action pops that many from its queue). Asynchronous execution
  // ignores it: the queue threshold decides when the next chunk is asked for.
  virtual int n_action_steps() const { return chunk_size(); }

  // Writes chunk[chunk_size * action_dim] (robot units). Called from one thread at a time.
  virtual Status PredictChunk(const PolicyObservation& obs, float* chunk) = 0;

  // Per-block latencies of the last PredictChunk, in execution order. Blocks run one after
  // another, so their sum is the prediction's latency.
  virtual const std::vector<BlockLatency>& last_latencies() const = 0;

  // Episode start: forget any state carried between predictions.
  virtual void Reset() {}

  // T_inference of the last PredictChunk. Blocks that run one after another sum up (the
  // default); a scheduled policy whose blocks overlap reports its measured makespan instead.
  virtual double last_total_ms() const {
    double total = 0;
    for (const BlockLatency& b : last_latencies()) total += b.ms;
    return total;
  }

  // The time the robot has before it runs out of actions if the next chunk comes this late
  // (T_execution at the trigger), told before each PredictChunk; <= 0 unknown. A latency-aware
  // policy may take a cheaper path to fit it (e.g. SmolVLA reusing its last image tokens).
  virtual void SetLatencyBudget(double /*ms*/) {}
};

}  // namespace embody::runtime
