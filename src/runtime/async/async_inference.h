// AsyncInference: the inference thread of a real-time robot loop (LeRobot's RobotClient, in
// process). The control loop only calls ActionQueue::Pop() each tick and holds its last target
// when that returns false; it never waits for inference. This thread sleeps until the queue
// drains to chunk_size_threshold, observes, predicts, merges, and measures T_inference.
//
// A policy that fails or throws stops the thread: failed() turns true, error() says why, no more
// chunks arrive, and the robot holds once the queue is empty (call queue.Reset() to hold now).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/async/action_queue.h"
#include "runtime/async/inference_monitor.h"
#include "runtime/async/policy.h"

namespace embody::runtime {

struct AsyncOptions {
  double threshold = 0.5;  // infer when queue_size / chunk_size <= threshold
  MergeOptions merge;
  bool adaptive_threshold = false;
  double period_ms = 1000.0 / 30;  // the control loop's period, for the T_inference monitor
};

class AsyncInference {
 public:
  // Fills the observation from the robot's latest sensor snapshot; runs on the inference thread,
  // so it must synchronise with whatever writes the snapshot.
  using Observe = std::function<Status(PolicyObservation*)>;

  AsyncInference(Policy& policy, ActionQueue& queue, Observe observe, const AsyncOptions& options);
  ~AsyncInference();  // Stop()
  AsyncInference(const AsyncInference&) = delete;
  AsyncInference& operator=(const AsyncInference&) = delete;

  void Start();
  // Closes the queue (waking the thread) and joins. The queue stays closed: Reset() it to reuse.
  void Stop();

  bool failed() const { return failed_.load(); }
  std::string error() const;
  int inferences() const { return inferences_.load(); }
  int late() const { return late_.load(); }
  double threshold() const { return threshold_.load(); }
  // The monitor's warning (empty when T_inference fits the budget).
  std::string warning() const;

 private:
  void Loop();

  Policy& policy_;
  ActionQueue& queue_;
  Observe observe_;
  AsyncOptions options_;
  std::vector<float> chunk_;
  std::thread thread_;
  std::atomic<bool> running_{false}, failed_{false};
  std::atomic<int> inferences_{0}, late_{0};
  std::atomic<double> threshold_;
  mutable std::mutex mu_;  // guards error_ and monitor_
  std::string error_;
  InferenceMonitor monitor_;
};

}  // namespace embody::runtime
