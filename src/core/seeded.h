// Seeded tensors: the integer-hash weights and inputs that tests, benchmarks and the Python
// golden tools all generate identically. The spec is docs/formats/seeded-weights.md; the numpy
// twin is tools/golden/seeded.py. Change neither without the other.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/tensor.h"

namespace embody::seeded {

uint64_t Fnv1a64(const void* data, size_t n);
inline uint64_t Fnv1a64(std::string_view s) { return Fnv1a64(s.data(), s.size()); }

inline uint64_t SplitMix64(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// u in [0, 1), exact in float32.
inline float Unit(uint64_t z) { return static_cast<float>(z >> 40) * 0x1p-24f; }

// The weight rule of the spec: value of every element of the tensor named `key` with `shape`,
// written as float32 into out[shape.numel()].
void FillWeight(std::string_view key, const Shape& shape, uint64_t base_seed, float* out);

// A uint8 HWC camera frame for step `step` and camera `camera_key`.
void FillImage(int step, std::string_view camera_key, int height, int width, uint8_t* out);

// The state for step `step`: 4 * s.
void FillState(int step, int dim, float* out);

// Dataset stats: "mean" -> 0.5 s, "std" -> 0.5 + u, for key "stats.<feature>.<stat>".
void FillStat(std::string_view feature, std::string_view stat, int n, float* out);

}  // namespace embody::seeded
