// InferenceMonitor: the T_inference < T_execution rule, checked continuously.
//
// Every inference reports its latency and how many queued actions the robot had left when it
// started (T_execution = those actions times the control period). The monitor keeps a running
// estimate of T_inference (exponential moving average and the maximum), counts the inferences
// that could not finish before the queue ran dry, and suggests the chunk_size_threshold that
// would hide the estimated latency: the queue must still hold ceil(T_inference / period) + margin
// actions when the next inference starts.
#pragma once

#include <string>

namespace embody::runtime {

struct MonitorOptions {
  double period_ms = 1000.0 / 30;  // control period
  int chunk_size = 50;
  double ema_alpha = 0.3;          // weight of the newest sample
  int margin_ticks = 1;            // spare actions kept for jitter
  double min_threshold = 0.0, max_threshold = 1.0;
};

class InferenceMonitor {
 public:
  explicit InferenceMonitor(const MonitorOptions& options) : o_(options) {}

  // One finished inference: latency_ms, and the actions queued when it started.
  // Returns true when T_inference >= T_execution for this inference (the robot will idle).
  bool Record(double latency_ms, int queued_at_start);

  double ema_ms() const { return ema_ms_; }
  double max_ms() const { return max_ms_; }
  int samples() const { return samples_; }
  int late() const { return late_; }  // inferences with T_inference >= T_execution

  // The threshold that covers the estimated latency where that is possible (see the .cc for the
  // rule), clamped to [min, max]; `current` until the first sample.
  double SuggestThreshold(double current) const;
  // True when no threshold can hide the estimated latency. A chunk observed at timestep t arrives
  // D = DelayTicks(T_inference) ticks later with actions t .. t + chunk - 1, of which t .. t + D
  // have been executed meanwhile (LeRobot drops them): it brings at most chunk - 1 - D fresh
  // actions, and those must last the D ticks of the next inference. So D <= (chunk - 1) / 2.
  bool CannotHide() const;
  // True when T_inference exceeds a whole chunk's execution (D > chunk - 1): every chunk arrives
  // fully or mostly stale, and a synchronous loop, which runs every chunk in full, is faster.
  bool ChunkTooShort() const;
  // A one-line warning, empty when the latest estimate fits the budget.
  std::string Warning(double threshold) const;

 private:
  MonitorOptions o_;
  double ema_ms_ = 0, max_ms_ = 0;
  int samples_ = 0, late_ = 0;
};

}  // namespace embody::runtime
