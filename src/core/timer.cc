#include "core/timer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace embody {

namespace {
// Linear interpolation between closest ranks, as numpy.percentile does by default.
double Percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}
}  // namespace

LatencySummary Summarize(std::vector<double> s) {
  LatencySummary r;
  if (s.empty()) return r;
  std::sort(s.begin(), s.end());
  r.count = s.size();
  r.median_ms = Percentile(s, 0.5);
  r.p90_ms = Percentile(s, 0.9);
  r.mean_ms = std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size());
  r.min_ms = s.front();
  r.max_ms = s.back();
  return r;
}

}  // namespace embody
