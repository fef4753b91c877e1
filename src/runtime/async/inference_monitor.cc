#include "runtime/async/inference_monitor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/async/latency_profile.h"

namespace embody::runtime {

bool InferenceMonitor::Record(double latency_ms, int queued_at_start) {
  ema_ms_ = samples_ == 0 ? latency_ms : o_.ema_alpha * latency_ms + (1 - o_.ema_alpha) * ema_ms_;
  max_ms_ = std::max(max_ms_, latency_ms);
  ++samples_;
  // the queued actions cover DelayTicks() waiting ticks exactly when there are at least as many
  const bool is_late = DelayTicks(latency_ms, o_.period_ms) > queued_at_start;
  if (is_late) ++late_;
  return is_late;
}

double InferenceMonitor::SuggestThreshold(double current) const {
  if (samples_ == 0 || o_.chunk_size <= 0) return current;
  const int needed = DelayTicks(ema_ms_, o_.period_ms) + o_.margin_ticks;
  return std::clamp(static_cast<double>(needed) / o_.chunk_size, o_.min_threshold, o_.max_threshold);
}

bool InferenceMonitor::ChunkTooShort() const {
  // a chunk predicted from timestep t gives chunk_size - 1 fresh actions (action 0 is the one
  // already executed, see ActionQueue); the queue can never hold more than that
  return samples_ > 0 && DelayTicks(ema_ms_, o_.period_ms) > o_.chunk_size - 1;
}

std::string InferenceMonitor::Warning(double threshold) const {
  if (samples_ == 0) return {};
  const int delay = DelayTicks(ema_ms_, o_.period_ms);
  const int budget = static_cast<int>(threshold * o_.chunk_size + 1e-9);
  char buf[256];
  if (ChunkTooShort()) {
    std::snprintf(buf, sizeof(buf),
                  "T_inference %.0f ms >= T_execution of a whole chunk (%d actions, %.0f ms): the robot will stall",
                  ema_ms_, o_.chunk_size - 1, (o_.chunk_size - 1) * o_.period_ms);
    return buf;
  }
  if (delay > budget) {
    std::snprintf(buf, sizeof(buf),
                  "T_inference %.0f ms >= T_execution %.0f ms of the %d actions left at the trigger "
                  "(threshold %.2f); threshold %.2f would cover it",
                  ema_ms_, budget * o_.period_ms, budget, threshold, SuggestThreshold(threshold));
    return buf;
  }
  return {};
}

}  // namespace embody::runtime
