// Weight formats: names, validation, quantization and dequantization (spec: FORMATS.md).
#include "kernels/quant/formats.h"

#include <algorithm>
#include <cmath>

#include "kernels/quant/quant_linear.h"

namespace embody::kernels {

namespace quant {

uint16_t FloatToHalf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (u >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (u < 0x38800000u) {
    // Subnormal half (|f| < 2^-14): the value in units of 2^-24, rounded to nearest even.
    if (u < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to 0
    const uint32_t exp = u >> 23, mant = (u & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14 - (exp - 127) + 13 - 1 ... = mantissa shift to 2^-24 units
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  // Normal: rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits.
  uint32_t h = ((u - 0x38000000u) >> 13);
  const uint32_t rem = u & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: correct
  return static_cast<uint16_t>(sign | h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {
      const float v = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&u, &v, 4);
      u |= sign;
    }
  } else {
    u = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace quant

const char* WeightFormatName(WeightFormat f) {
  switch (f) {
    case WeightFormat::kF32: return "f32";
    case WeightFormat::kF16: return "f16";
    case WeightFormat::kBF16: return "bf16";
    case WeightFormat::kInt8: return "int8";
    case WeightFormat::kInt4: return "int4";
  }
  return "?";
}

Result<WeightFormat> ParseWeightFormat(const std::string& name) {
  for (WeightFormat f :
       {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kInt8, WeightFormat::kInt4})
    if (name == WeightFormatName(f)) return f;
  if (name == "fp32") return WeightFormat::kF32;
  if (name == "fp16") return WeightFormat::kF16;
  if (name == "i8") return WeightFormat::kInt8;
  if (name == "i4") return WeightFormat::kInt4;
  return InvalidArgument("unknown weight format '" + name + "' (expected f32, f16, bf16, int8 or int4)");
}

namespace {
int64_t PaddedK(int64_t k) { return (k + kInt4Block - 1) / kInt4Block * kInt4Block; }
}  // namespace

int64_t PackedWeights::row_bytes() const {
  switch (format) {
    case WeightFormat::kF32: return k * 4;
    case WeightFormat::kF16:
    case WeightFormat::kBF16: return k * 2;
    case WeightFormat::kInt8: return k;
    case WeightFormat::kInt4: return PaddedK(k) / 2;
  }
  return 0;
}

int64_t PackedWeights::scales_per_row() const {
  if (format == WeightFormat::kInt8) return 1;
  if (format == WeightFormat::kInt4) return PaddedK(k) / kInt4Block;
  return 0;
}

Status PackedWeights::Validate() const {
  const std::string what = std::string(WeightFormatName(format)) + " weights [" + std::to_string(n) + ", " +
                           std::to_string(k) + "]";
  if (n <= 0 || k <= 0) return InvalidArgument(what + ": dimensions must be positive");
  if (static_cast<int64_t>(data.size()) != n * row_bytes())
    return InvalidArgument(what + ": data holds " + std::to_string(data.size()) + " bytes, expected " +
                           std::to_string(n * row_bytes()));
  if (static_cast<int64_t>(scales.size()) != n * scales_per_row())
    return InvalidArgument(what + ": " + std::to_string(scales.size()) + " scales, expected " +
                           std::to_string(n * scales_per_row()));
  for (float s : scales)
    if (!std::isfinite(s) || s < 0) return InvalidArgument(what + ": a scale is negative or not finite");
  return Status::Ok();
}

Result<PackedWeights> QuantizeWeights(WeightFormat f, int64_t n, int64_t k, const float* w) {
  if (n <= 0 || k <= 0) return InvalidArgument("QuantizeWeights: dimensions must be positive");
  PackedWeights p;
  p.format = f;
  p.n = n;
  p.k = k;
  p.data.assign(static_cast<size_t>(n * p.row_bytes()), 0);
  p.scales.assign(static_cast<size_t>(n * p.scales_per_row()), 0.0f);
  for (int64_t i = 0; i < n * k; ++i)
    if (!std::isfinite(w[i]))
      return InvalidArgument("QuantizeWeights: weight (" + std::to_string(i / k) + ", " + std::to_string(i % k) +
                             ") is not finite");
  switch (f) {
    case WeightFormat::kF32: std::memcpy(p.data.data(), w, p.data.size()); break;
    case WeightFormat::kF16:
    case WeightFormat::kBF16:
      for (int64_t i = 0; i < n * k; ++i) {
        const uint16_t h = f == WeightFormat::kF16 ? quant::FloatToHalf(w[i]) : quant::FloatToBf16(w[i]);
        std::memcpy(p.data.data() + 2 * i, &h, 2);
      }
      break;
    case WeightFormat::kInt8:
      for (int64_t r = 0; r < n; ++r) {
        const float* row = w + r * k;
        float amax = 0;
        for (int64_t c = 0; c < k; ++c) amax = std::max(amax, std::abs(row[c]));
        const float scale = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
        p.scales[static_cast<size_t>(r)] = scale;
        auto* q = reinterpret_cast<int8_t*>(p.data.data()) + r * k;
        for (int64_t c = 0; c < k; ++c) q[c] = static_cast<int8_t>(quant::QuantizeValue(row[c], inv));
      }
      break;
    case WeightFormat::kInt4: {
      const int64_t blocks = p.scales_per_row(), rb = p.row_bytes();
      for (int64_t r = 0; r < n; ++r) {
        for (int64_t b = 0; b < blocks; ++b) {
          const int64_t c0 = b * kInt4Block, c1 = std::min(k, c0 + kInt4Block);
          float amax = 0;
          for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::abs(w[r * k + c]));
          const float inv = amax > 0 ? 7.0f / amax : 0.0f;
          p.scales[static_cast<size_t>(r * blocks + b)] = amax / 7.0f;
          for (int64_t c = c0; c < c1; ++c) {
            float v = std::nearbyint(w[r * k + c] * inv);
            v = std::clamp(v, -7.0f, 7.0f);
            const auto nib = static_cast<uint8_t>(static_cast<int>(v) + 8);
            uint8_t& byte = p.data[static_cast<size_t>(r * rb + c / 2)];
            byte = static_cast<uint8_t>(c % 2 ? (byte & 0x0f) | (nib << 4) : (byte & 0xf0) | nib);
          }
          // Padding past k (and never-written nibbles) must read as q = 0, i.e. nibble 8.
          for (int64_t c = c1; c < c0 + kInt4Block; ++c) {
            uint8_t& byte = p.data[static_cast<size_t>(r * rb + c / 2)];
            byte = static_cast<uint8_t>(c % 2 ? (byte & 0x0f) | 0x80 : (byte & 0xf0) | 0x08);
          }
        }
      }
      break;
    }
  }
  return p;
}

void DequantizeWeights(const PackedWeights& p, float* out) {
  const int64_t n = p.n, k = p.k;
  switch (p.format) {
    case WeightFormat::kF32: std::memcpy(out, p.data.data(), static_cast<size_t>(n * k) * 4); break;
    case WeightFormat::kF16:
    case WeightFormat::kBF16:
      for (int64_t i = 0; i < n * k; ++i) {
        uint16_t h;
        std::memcpy(&h, p.data.data() + 2 * i, 2);
        out[i] = p.format == WeightFormat::kF16 ? quant::HalfToFloat(h) : quant::Bf16ToFloat(h);
      }
      break;
    case WeightFormat::kInt8:
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          out[r * k + c] = static_cast<float>(reinterpret_cast<const int8_t*>(p.data.data())[r * k + c]) *
                           p.scales[static_cast<size_t>(r)];
      break;
    case WeightFormat::kInt4: {
      const int64_t blocks = p.scales_per_row(), rb = p.row_bytes();
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c) {
          const uint8_t byte = p.data[static_cast<size_t>(r * rb + c / 2)];
          const int q = (c % 2 ? byte >> 4 : byte & 0x0f) - 8;
          out[r * k + c] = static_cast<float>(q) * p.scales[static_cast<size_t>(r * blocks + c / kInt4Block)];
        }
      break;
    }
  }
}

}  // namespace embody::kernels
