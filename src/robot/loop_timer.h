// A fixed-rate control-loop clock: absolute deadlines on CLOCK_MONOTONIC (no drift), per-tick
// records kept in memory reserved up front (nothing allocates while the loop runs), and the
// numbers a robot loop is judged by: period jitter and missed deadlines.
//
//   LoopTimer t(30, 60 * 30);
//   t.Start();
//   while (...) { work(); t.WaitNext(); }
//
// A tick whose work runs past the next deadline is a missed deadline; the clock then skips the
// slots it missed instead of running a burst of catch-up ticks (a late command is not sent twice).
// Not thread-safe: the loop thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embody::robot {

struct LoopStats {
  double hz = 0;
  int64_t ticks = 0;            // ticks started
  int64_t missed = 0;           // ticks whose work ended after the next tick's deadline
  int64_t skipped_slots = 0;    // periods dropped to realign after a miss
  // |actual period - nominal period| over consecutive ticks, milliseconds.
  double jitter_p50_ms = 0, jitter_p99_ms = 0, jitter_max_ms = 0;
  // Wake-up lateness: tick start - its deadline, milliseconds.
  double wake_p50_ms = 0, wake_p99_ms = 0;
  // Work time per tick (start to WaitNext), milliseconds.
  double work_p50_ms = 0, work_p99_ms = 0, work_max_ms = 0;
};

class LoopTimer {
 public:
  // REQUIRES: hz > 0. `max_ticks`: how many ticks to keep records of (later ticks still pace
  // and count, but are not in the percentiles).
  LoopTimer(double hz, int64_t max_ticks);

  void Start();     // the first deadline is now
  void WaitNext();  // ends this tick's work, sleeps until the next deadline, starts the next tick
  double period_s() const { return period_ns_ * 1e-9; }
  // Seconds since Start().
  double Elapsed() const;
  LoopStats Stats() const;

 private:
  static int64_t Now();
  double hz_;
  int64_t period_ns_;
  int64_t start_ns_ = 0, deadline_ns_ = 0, tick_start_ns_ = 0;
  int64_t ticks_ = 0, missed_ = 0, skipped_ = 0;
  size_t max_records_;
  std::vector<int64_t> starts_, wakes_, works_;
};

}  // namespace embody::robot
