// ActionQueue: timestep-tagged actions between an inference producer and the control loop,
// with LeRobot's merge rule for overlapping chunks (RobotClient._aggregate_action_queues,
// LeRobot 0.4.4):
//   * action i of a chunk predicted from the observation of timestep t is tagged t + i;
//   * an incoming action whose timestep <= the last executed one is dropped (its time passed);
//   * one whose timestep is queued is combined with it by the aggregate function;
//   * otherwise it is queued as is;
//   * the queue afterwards holds the incoming chunk's actions only: queued actions the new chunk
//     does not cover are discarded, as in LeRobot.
// Optional seam smoothing (not in LeRobot): the first `smooth_ticks` kept actions of a chunk
// ramp linearly from the old plan to the merged value, so a chunk switch cannot jump. The old
// plan is the queued action of that timestep, else the executed path extrapolated at its last
// velocity (zero after an empty Pop: the robot was holding).
//
// Thread-safe: one mutex guards everything; a condition variable lets an inference thread sleep
// until the queue drains to its trigger level. Pop() never waits for inference and holds the
// lock only to copy one action. Capacity is fixed at construction: nothing allocates afterwards.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "runtime/async/aggregate.h"

namespace embody::runtime {

struct MergeOptions {
  Aggregate aggregate = Aggregate::kWeightedAverage;
  int smooth_ticks = 0;
};

struct MergeResult {
  int kept = 0;        // actions queued from the chunk
  int stale = 0;       // dropped: timestep already executed
  int aggregated = 0;  // combined with a queued action of the same timestep
  int discarded = 0;   // queued actions the chunk did not cover, removed
};

class ActionQueue {
 public:
  // capacity: the longest chunk that will be merged.
  ActionQueue(int capacity, int action_dim);

  // Control loop: the next action and its timestep, which becomes the last executed one.
  // Returns false when empty (the robot holds its last target). Never waits for a producer.
  bool Pop(float* action, int64_t* timestep);

  // Producer: merges chunk[n * action_dim] whose action i has timestep first_timestep + i.
  // n must not exceed the capacity (larger chunks are cut to it).
  MergeResult Merge(int64_t first_timestep, const float* chunk, int n, const MergeOptions& options);

  int size() const;
  int capacity() const { return capacity_; }
  int action_dim() const { return dim_; }
  int64_t latest_executed() const;  // -1 before the first Pop

  // Sleeps until size() <= n, Close(), or the timeout. Returns true if size() <= n.
  bool WaitUntilAtMost(int n, std::chrono::nanoseconds timeout);

  // Empties the queue and forgets the executed timestep (episode start); reopens after Close().
  // `holding` [action_dim], if given, is the target the robot holds now: the first chunk's
  // ramp-in starts from it.
  void Reset(const float* holding = nullptr);
  // Wakes every waiter for good (shutdown).
  void Close();

 private:
  int IndexOf(int64_t timestep) const;  // position in [head_, head_ + size_) or -1; REQUIRES mu_

  const int capacity_, dim_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<float> actions_, next_actions_;  // [capacity, dim]
  std::vector<int64_t> steps_, next_steps_;    // [capacity]
  std::vector<float> last_action_, prev_action_;  // [dim]: the last two executed targets
  int head_ = 0, size_ = 0;
  int64_t latest_ = -1;
  bool have_last_ = false;  // last_action_ is a real target (popped, or given to Reset)
  bool closed_ = false;
};

}  // namespace embody::runtime
