// Compiled with -ffp-contract=off (see CMakeLists.txt): the spec's float32 arithmetic must not
// be fused into FMAs, or the values would differ from numpy's in the last bit.
#include "core/seeded.h"

#include <cmath>
#include <string>

namespace embody::seeded {

namespace {
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

uint64_t Fnv1a64(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

void FillWeight(std::string_view key, const Shape& shape, uint64_t base_seed, float* out) {
  const uint64_t seed = Fnv1a64(key) ^ base_seed;
  const uint64_t n = static_cast<uint64_t>(shape.numel());
  const bool one_d = shape.rank() == 1;
  enum { kVar, kMean, kScale, kBias, kDense } kind = kDense;
  if (EndsWith(key, "running_var")) kind = kVar;
  else if (EndsWith(key, "running_mean")) kind = kMean;
  else if (one_d && EndsWith(key, ".weight")) kind = kScale;
  else if (one_d && EndsWith(key, ".bias")) kind = kBias;
  int64_t fan_in = 1;
  for (int i = 1; i < shape.rank(); ++i) fan_in *= shape[i];
  const float scale = static_cast<float>(std::sqrt(3.0 / static_cast<double>(fan_in)));
  for (uint64_t i = 0; i < n; ++i) {
    const float u = Unit(SplitMix64(seed, i));
    const float s = 2.0f * u - 1.0f;
    float v;
    switch (kind) {
      case kVar: v = 0.5f + u; break;
      case kMean: v = 0.1f * s; break;
      case kScale: v = 1.0f + (0.1f * s); break;
      case kBias: v = 0.1f * s; break;
      default: v = s * scale; break;
    }
    out[i] = v;
  }
}

void FillImage(int step, std::string_view camera_key, int height, int width, uint8_t* out) {
  const std::string key = "input." + std::to_string(step) + "." + std::string(camera_key);
  const uint64_t seed = Fnv1a64(key);
  const uint64_t n = static_cast<uint64_t>(height) * static_cast<uint64_t>(width) * 3;
  for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(SplitMix64(seed, i) >> 56);
}

void FillState(int step, int dim, float* out) {
  const std::string key = "input." + std::to_string(step) + ".observation.state";
  const uint64_t seed = Fnv1a64(key);
  for (int i = 0; i < dim; ++i) {
    const float s = 2.0f * Unit(SplitMix64(seed, static_cast<uint64_t>(i))) - 1.0f;
    out[i] = 4.0f * s;
  }
}

void FillStat(std::string_view feature, std::string_view stat, int n, float* out) {
  const std::string key = "stats." + std::string(feature) + "." + std::string(stat);
  const uint64_t seed = Fnv1a64(key);
  for (int i = 0; i < n; ++i) {
    const float u = Unit(SplitMix64(seed, static_cast<uint64_t>(i)));
    out[i] = stat == "std" ? 0.5f + u : 0.5f * (2.0f * u - 1.0f);
  }
}

}  // namespace embody::seeded
