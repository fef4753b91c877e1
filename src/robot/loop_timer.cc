#include "robot/loop_timer.h"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace embody::robot {

namespace {
double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - (p > 0 ? 1 : 0));
  return v[i];
}
}  // namespace

LoopTimer::LoopTimer(double hz, int64_t max_ticks)
    : hz_(hz), period_ns_(static_cast<int64_t>(1e9 / hz)), max_records_(static_cast<size_t>(std::max<int64_t>(max_ticks, 1))) {
  starts_.reserve(max_records_);
  wakes_.reserve(max_records_);
  works_.reserve(max_records_);
}

int64_t LoopTimer::Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void LoopTimer::Start() {
  start_ns_ = deadline_ns_ = tick_start_ns_ = Now();
  ticks_ = 1;
  starts_.push_back(tick_start_ns_);
  wakes_.push_back(0);
}

double LoopTimer::Elapsed() const { return static_cast<double>(Now() - start_ns_) * 1e-9; }

void LoopTimer::WaitNext() {
  const int64_t work_end = Now();
  if (works_.size() < max_records_) works_.push_back(work_end - tick_start_ns_);
  int64_t next = deadline_ns_ + period_ns_;
  if (work_end > next) {  // the work overran the whole period
    ++missed_;
    const int64_t behind = (work_end - next) / period_ns_ + 1;
    skipped_ += behind;
    next += behind * period_ns_;
  }
  deadline_ns_ = next;
  timespec ts{static_cast<time_t>(next / 1'000'000'000), static_cast<long>(next % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
  tick_start_ns_ = Now();
  ++ticks_;
  if (starts_.size() < max_records_) {
    starts_.push_back(tick_start_ns_);
    wakes_.push_back(tick_start_ns_ - deadline_ns_);
  }
}

LoopStats LoopTimer::Stats() const {
  LoopStats s;
  s.hz = hz_;
  s.ticks = ticks_;
  s.missed = missed_;
  s.skipped_slots = skipped_;
  std::vector<double> jitter, wake, work;
  for (size_t i = 1; i < starts_.size(); ++i)
    jitter.push_back(std::abs(static_cast<double>(starts_[i] - starts_[i - 1] - period_ns_)) * 1e-6);
  for (size_t i = 1; i < wakes_.size(); ++i) wake.push_back(static_cast<double>(wakes_[i]) * 1e-6);
  for (int64_t w : works_) work.push_back(static_cast<double>(w) * 1e-6);
  s.jitter_p50_ms = Percentile(jitter, 0.5);
  s.jitter_p99_ms = Percentile(jitter, 0.99);
  s.jitter_max_ms = jitter.empty() ? 0 : *std::max_element(jitter.begin(), jitter.end());
  s.wake_p50_ms = Percentile(wake, 0.5);
  s.wake_p99_ms = Percentile(wake, 0.99);
  s.work_p50_ms = Percentile(work, 0.5);
  s.work_p99_ms = Percentile(work, 0.99);
  s.work_max_ms = work.empty() ? 0 : *std::max_element(work.begin(), work.end());
  return s;
}

}  // namespace embody::robot
