// Scalar helpers shared by the quantizer, the reference kernels and every optimized path: 16-bit
// float conversions and the one definition of how an activation row becomes int8.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace embody::kernels::quant {

// IEEE binary16 <-> float32, round to nearest even, overflow to infinity, subnormals kept.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
// bfloat16 = the upper 16 bits of float32, rounded to nearest even (NaN stays NaN).
inline uint16_t FloatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float Bf16ToFloat(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Activation quantization, the contract every kernel reproduces bit for bit:
//   dynamic: amax = max |x| over the row; scale = amax / 127; inv = 127 / amax (0 when amax == 0);
//   q = clamp(nearbyint(x * inv), -127, 127) with the default round-to-nearest-even mode;
//   the row's value is then q * scale.
// static:   inv = 1 / activation_scale, scale = activation_scale.
inline float RowScale(float amax) { return amax / 127.0f; }
inline float RowInverse(float amax) { return amax > 0.0f ? 127.0f / amax : 0.0f; }
inline int32_t QuantizeValue(float x, float inv) {
  float v = std::nearbyint(x * inv);
  v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
  return static_cast<int32_t>(v);
}

}  // namespace embody::kernels::quant
