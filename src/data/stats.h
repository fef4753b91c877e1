// Normalization statistics as LeRobot 0.4.4 computes them (lerobot/datasets/compute_stats.py):
// per feature min, max, mean, std, count and the quantiles q01, q10, q50, q90, q99; per episode,
// then aggregated over episodes into meta/stats.json.
//
// * Vectors: over all frames of the episode; population std; quantiles from a 5000-bin histogram
//   spanning [min - 1e-10, max + 1e-10] with linear interpolation inside a bin; fewer than 2
//   rows give quantiles = mean.
// * Camera images: per channel, over pixel values / 255, on LeRobot's sample of frames
//   (n = max(min(100, len), min(len^0.75, 10000)) evenly spaced) each downsampled by the integer
//   stride int(max(H,W)/150) when max(H,W) >= 300; count = frames sampled; shape (3,1,1).
//   Pixels are integers, so a 256-bin histogram per channel and frame holds everything: the
//   recorder keeps those (3 KiB per frame) instead of the frames.
// * Aggregation: min of mins, max of maxes, count-weighted mean, pooled variance, quantiles as
//   count-weighted means (0.4.4's rule).
// One deliberate difference: LeRobot 0.4.4 squares uint8 pixels without widening, so its image
// std wraps around and comes out ~0; ours is the true std (docs/dataset.md).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace embody::data {

inline constexpr std::array<double, 5> kQuantiles = {0.01, 0.10, 0.50, 0.90, 0.99};
inline constexpr std::array<const char*, 5> kQuantileKeys = {"q01", "q10", "q50", "q90", "q99"};

struct FeatureStats {
  std::vector<int64_t> shape;  // of each stat except count: {N} for vectors, {3,1,1} for images
  std::vector<double> min, max, mean, std;
  std::array<std::vector<double>, 5> q;  // kQuantiles order; empty when the source had none
  int64_t count = 0;
  bool has_quantiles() const { return !q[0].empty(); }
};
using StatsMap = std::map<std::string, FeatureStats>;  // feature name -> stats

// Stats of `rows` vectors of `dim` values (row-major), as compute_episode_stats does.
FeatureStats ComputeVectorStats(const double* rows, int64_t num_rows, int64_t dim);

// Per-frame pixel histograms of one camera, for its image stats.
class ImageStatsBuilder {
 public:
  // Histogram of one frame (HWC RGB), with LeRobot's downsampling stride for its size.
  void AddFrame(const uint8_t* rgb, int height, int width);
  int64_t frames() const { return static_cast<int64_t>(hist_.size()); }
  // Stats over LeRobot's sample of the frames added so far. REQUIRES: frames() > 0.
  FeatureStats Finish() const;

 private:
  std::vector<std::array<std::array<uint32_t, 256>, 3>> hist_;
};

// The frame indices LeRobot samples for image stats of an episode of `length` frames.
std::vector<int64_t> SampleFrameIndices(int64_t length);

// Aggregates per-episode stats (each map may lack features the others have).
StatsMap AggregateStats(const std::vector<StatsMap>& episodes);

// stats.json <-> StatsMap. Parsing accepts files without quantiles (v2.x, early v3) and names
// the feature and stat in errors.
io::Json StatsToJson(const StatsMap& stats);
Result<StatsMap> StatsFromJson(const io::Json& json, const std::string& file);

}  // namespace embody::data
