// RemotePolicy: runtime::Policy over gRPC (the robot side of serve/policy_server.h). The action
// queue, the runners and AsyncInference use it exactly like a local policy: PredictChunk sends
// the observation with its timestep and returns the server's chunk for timesteps t, t+1, ...
//
// Every call has a deadline. A server that is down, unreachable, late or failing makes
// PredictChunk return an error naming the server and the cause (gRPC code and message); the
// caller holds position and reports it (sim runner, AsyncInference). Nothing here retries
// silently: a robot must not execute a chunk planned from an observation it no longer has.
//
// Thread safety: like any Policy, one PredictChunk at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/async/policy.h"
#include "serve/policy_server.h"

namespace embody::serve {

struct RemoteOptions {
  double connect_timeout_ms = 5000;  // Connect(): the server must answer Describe within this
  double deadline_ms = 10000;        // each Predict / Reset
};

class RemotePolicy : public runtime::Policy {
 public:
  // target: "host:port" (a "grpc://" prefix is accepted). Connects and calls Describe.
  static Result<std::unique_ptr<RemotePolicy>> Connect(const std::string& target, const RemoteOptions& options);
  ~RemotePolicy() override;

  std::string_view name() const override { return name_; }
  int chunk_size() const override { return chunk_size_; }
  int action_dim() const override { return action_dim_; }
  Status PredictChunk(const runtime::PolicyObservation& obs, float* chunk) override;
  // The server's blocks, then "network" (round trip minus the server's time).
  const std::vector<runtime::BlockLatency>& last_latencies() const override { return latencies_; }
  double last_total_ms() const override { return round_trip_ms_; }
  void SetLatencyBudget(double ms) override { budget_ms_ = ms; }
  // Resets the server's policy; a failure is returned by the next PredictChunk.
  void Reset() override;

  const PolicyDescription& description() const { return description_; }
  const std::string& target() const { return target_; }

 private:
  struct Impl;
  RemotePolicy();

  std::unique_ptr<Impl> impl_;
  std::string target_, name_;
  int chunk_size_ = 0, action_dim_ = 0;
  PolicyDescription description_;
  RemoteOptions options_;
  std::vector<runtime::BlockLatency> latencies_;
  double round_trip_ms_ = 0, budget_ms_ = 0;
  Status reset_error_;
};

}  // namespace embody::serve
