// runtime::Policy: anything that turns one observation into a chunk of future actions.
//
// ACT and SmolVLA implement it over their models (act_chunk_policy.h, smolvla_chunk_policy.h);
// the simulation's scripted oracle implements it in async/sim/. The action queue and the runners
// see only this interface, so a remote policy (gRPC, issue 6) can implement it later too.
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

struct PolicyObservation {
  std::vector<PolicyImage> images;  // one per camera the policy expects, in its order
  const float* state = nullptr;     // [state_dim] robot units, or null for stateless policies
  std::string_view task;            // language instruction (VLAs); ignored by ACT
  // LeRobot's observation timestep: the timestep of the last executed action (0 before any).
  // Action i of the predicted chunk is tagged timestep + i.
  int64_t timestep = 0;
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

  // Writes chunk[chunk_size * action_dim] (robot units). Called from one thread at a time.
  virtual Status PredictChunk(const PolicyObservation& obs, float* chunk) = 0;

  // Per-block latencies of the last PredictChunk, in execution order. Blocks run one after
  // another, so their sum is the prediction's latency.
  virtual const std::vector<BlockLatency>& last_latencies() const = 0;

  // Episode start: forget any state carried between predictions.
  virtual void Reset() {}

  double last_total_ms() const {
    double total = 0;
    for (const BlockLatency& b : last_latencies()) total += b.ms;
    return total;
  }
};

}  // namespace embody::runtime
