// Element types and the conversions between them.
//
// bf16 and f16 are stored as raw uint16 bit patterns. Conversions to f32 are exact; conversions
// from f32 round to nearest even (the rounding PyTorch uses), so a bf16 checkpoint written here
// equals one written by torch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace embody {

enum class DType : uint8_t { kF32, kF16, kBF16, kU8, kI32, kI64 };

size_t DTypeSize(DType t);
// Name as safetensors spells it: "F32", "F16", "BF16", "U8", "I32", "I64".
std::string_view DTypeName(DType t);
std::optional<DType> DTypeFromName(std::string_view safetensors_name);

inline float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t F32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu)) {
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // quiet NaN, keep sign
  }
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

// Widens n elements of src (F32, F16 or BF16) into dst.
void ConvertToF32(DType src_type, const void* src, float* dst, size_t n);

}  // namespace embody
