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
  // Trigger with q actions left, D ticks of inference, chunk H: a chunk brings H - 1 - min(q, D)
  // fresh actions. Up to D, a larger q only removes idle ticks; past about H / 2 the chunks
  // overlap so much that triggering earlier discards what it would hide (measured with the
  // oracle at 1 s, H = 50: q = 23, 24 are slower, q = 25 .. 30 all equal); and once D > H - 1 the fewest
  // actions per inference are wasted at q = 0, i.e. running each chunk in full (sync).
  const int delay = DelayTicks(ema_ms_, o_.period_ms);
  const int needed = delay > o_.chunk_size - 1 ? 0 : std::min(delay + o_.margin_ticks, o_.chunk_size / 2);
  return std::clamp(static_cast<double>(needed) / o_.chunk_size, o_.min_threshold, o_.max_threshold);
}

bool InferenceMonitor::CannotHide() const {
  return samples_ > 0 && 2 * DelayTicks(ema_ms_, o_.period_ms) > o_.chunk_size - 1;
}

bool InferenceMonitor::ChunkTooShort() const {
  return samples_ > 0 && DelayTicks(ema_ms_, o_.period_ms) > o_.chunk_size - 1;
}

std::string InferenceMonitor::Warning(double threshold) const {
  if (samples_ == 0) return {};
  const int delay = DelayTicks(ema_ms_, o_.period_ms);
  const int budget = static_cast<int>(threshold * o_.chunk_size + 1e-9);
  char buf[256];
  if (ChunkTooShort()) {
    std::snprintf(buf, sizeof(buf),
                  "T_inference %.0f ms >= T_execution of a whole chunk (%d actions, %.0f ms): the robot will stall, "
                  "and chunks arrive stale (sync is faster here)",
                  ema_ms_, o_.chunk_size - 1, (o_.chunk_size - 1) * o_.period_ms);
    return buf;
  }
  if (CannotHide()) {
    std::snprintf(buf, sizeof(buf),
                  "T_inference %.0f ms (%d ticks) > half a chunk's execution (%.0f ms): each chunk brings at most %d "
                  "fresh actions, fewer than the next inference needs; the robot will idle at any threshold",
                  ema_ms_, delay, (o_.chunk_size - 1) / 2.0 * o_.period_ms, o_.chunk_size - 1 - delay);
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
