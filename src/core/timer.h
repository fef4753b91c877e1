// Wall-clock timing and latency summaries (median / p90 over repeated runs).
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace embody {

class Stopwatch {
 public:
  Stopwatch() : start_(Clock::now()) {}
  void Restart() { start_ = Clock::now(); }
  double ElapsedMs() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

struct LatencySummary {
  size_t count = 0;
  double median_ms = 0, p90_ms = 0, mean_ms = 0, min_ms = 0, max_ms = 0;
};

// Summary of samples in milliseconds. Empty input gives all zeros.
LatencySummary Summarize(std::vector<double> samples_ms);

}  // namespace embody
