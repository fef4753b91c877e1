// Runs a chunking policy on the tea-bag task in simulated time, synchronously or asynchronously.
//
// Simulated time makes the comparison deterministic and independent of the machine: the robot
// steps at the control rate; an inference is computed at once on the current state but its chunk
// only reaches the queue DelayTicks(charged latency) ticks later, the latency charged from a
// LatencyProfile. Meanwhile the robot keeps executing queued actions (async) or holds its last
// target (sync, and async when the queue runs dry: an idle tick). One inference is in flight at a
// time. Same seeds, same policy: identical episodes for every mode and latency.
//
//   sync   infer when the queue is empty, run the chunk's first n_action_steps (LeRobot's
//          select_action loop)
//   async  infer when queue_size / chunk_size <= threshold (LeRobot's chunk_size_threshold);
//          overlapping actions merged by ActionQueue (aggregate function, optional ramp-in)
//   sync with temporal_ensemble_coeff > 0
//          LeRobot's ACT temporal ensembling: infer every tick (n_action_steps 1) and run the
//          weighted average of every chunk's prediction for this tick (ACTTemporalEnsembler)
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/async/action_queue.h"
#include "runtime/async/latency_profile.h"
#include "runtime/async/policy.h"
#include "sim/episode.h"

namespace embody::runtime::simrun {

enum class Mode { kSync, kAsync };

struct SimRunOptions {
  Mode mode = Mode::kAsync;
  LatencyProfile latency;          // default: the policy's reported latency
  double threshold = 0.5;          // LeRobot's default chunk_size_threshold
  MergeOptions merge;
  bool adaptive_threshold = false; // let the InferenceMonitor raise/lower the threshold
  double settle_seconds = 0.5;     // success must hold this long before the episode ends early
  bool trace = false;              // record TickTrace for plots
  double temporal_ensemble_coeff = 0;  // > 0: sync mode ensembles chunks (ACT's 0.01)
};

struct TickTrace {
  int queue_size = 0;           // before this tick's action
  float inflight_latency_ms = 0;  // charged latency of the inference in flight, 0 if none
  bool idle = false;             // waiting (startup or idle)
};

struct SimEpisodeReport {
  sim::EpisodeSpec spec;
  bool success = false;
  double time_to_success = -1;  // seconds; < 0 never
  double duration = 0;          // simulated seconds
  int ticks = 0, inferences = 0, chunk_switches = 0;
  int startup_ticks = 0;        // waiting for the first chunk (any latency costs these)
  int idle_ticks = 0;           // waiting after that: the queue ran dry (sync: every inference)
  int late_inferences = 0;      // async: T_inference >= T_execution (the queue ran dry before the
                                // chunk came); not the first inference, which has nothing queued
  int stale_actions = 0;        // chunk actions dropped because their timestep had passed
  // Largest change of an arm joint's per-tick velocity (degrees per tick) at a chunk switch: the
  // kink the new chunk puts into the commanded path. Continuous motion gives ~0; a jump, or a
  // start after idling, gives its full size.
  double max_seam_jump = 0;
  double mean_latency_ms = 0;   // charged
  double final_threshold = 0;
  std::string warning;          // InferenceMonitor's, at the end
  std::string policy_error;     // non-empty: the policy failed and the robot held position from then on
  // Highest the bag's centre rose above its start (metres): tells a missed grasp (~0) from a bag
  // carried and then dropped or misplaced, when the episode fails.
  double max_bag_lift = 0;
  std::vector<TickTrace> trace;
};

// Fills obs for the current episode state (state vector, camera images, task); timestep is set
// by the runner. The default (nullptr) passes the joint state only.
using Observer = std::function<Status(const sim::Episode&, PolicyObservation*)>;

// `episode` must be the one the policy observes (the oracle reads it directly).
Result<SimEpisodeReport> RunPolicyEpisode(sim::Episode& episode, Policy& policy, const sim::EpisodeSpec& spec,
                                          const SimRunOptions& options, const Observer& observer = nullptr);

}  // namespace embody::runtime::simrun
