#include "kernels/elementwise.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "kernels/arch/avx512/bf16_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define EMBODY_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EMBODY_MULTIVERSION
#endif

namespace embody::kernels {

// Cephes' expf: range reduction by ln 2 in two parts, degree-5 polynomial, exponent by bits.
static inline float ExpInline(float x) {
  x = std::min(88.3762626647949f, std::max(-87.3365447504019f, x));
  float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  return y * std::bit_cast<float>(e);
}

float FastExp(float x) { return ExpInline(x); }

EMBODY_MULTIVERSION
static void SiluLoop(float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] / (1.0f + ExpInline(-y[i]));
}

EMBODY_MULTIVERSION
static void GeluTanhLoop(float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = y[i];
    const float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    const float t = 1.0f - 2.0f / (ExpInline(2.0f * u) + 1.0f);
    y[i] = 0.5f * x * (1.0f + t);
  }
}

void ApplyActivationInPlace(Activation act, float* y, int64_t n) {
  switch (act) {
    case Activation::kNone: return;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = std::max(y[i], 0.0f);
      return;
    case Activation::kGelu:
      for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * y[i] * (1.0f + std::erf(y[i] * 0.70710678118654752f));
      return;
    case Activation::kGeluTanh: GeluTanhLoop(y, n); return;
    case Activation::kSilu: SiluLoop(y, n); return;
  }
}

// 16 interleaved partial sums, so the loop vectorizes (see ExpShiftSum).
EMBODY_MULTIVERSION
static float SumSquares(const float* x, int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[j + l] * x[j + l];
  for (; j < n; ++j) acc[0] += x[j] * x[j];
  float sum = 0.0f;
  for (float a : acc) sum += a;
  return sum;
}

void RmsNorm(const float* x, int64_t rows, int64_t n, int64_t ldx, const float* w, float eps, float* y, int64_t ldy) {
#pragma omp parallel for schedule(static) if (rows * n > 32768)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ldx;
    float* yi = y + i * ldy;
    const float inv = 1.0f / std::sqrt(SumSquares(xi, n) / static_cast<float>(n) + eps);
    for (int64_t j = 0; j < n; ++j) yi[j] = w[j] * (xi[j] * inv);
  }
}

EMBODY_MULTIVERSION
static void SiluGateRow(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = g[j] / (1.0f + ExpInline(-g[j])) * u[j];
}

void SiluGate(const float* gate_up, int64_t rows, int64_t inter, float* out) {
#pragma omp parallel for schedule(static) if (rows * inter > 32768)
  for (int64_t i = 0; i < rows; ++i)
    SiluGateRow(gate_up + i * 2 * inter, gate_up + i * 2 * inter + inter, out + i * inter, inter);
}

EMBODY_MULTIVERSION
static float RowMax(const float* row, int64_t n) {
  float mx = row[0];
  for (int64_t j = 1; j < n; ++j) mx = std::max(mx, row[j]);
  return mx;
}

// exp(row - shift) in place and its sum, in 16 interleaved partial sums: a single running sum
// is a serial dependency the compiler may not reorder, which kept the loop scalar.
EMBODY_MULTIVERSION
static float ExpShiftSum(float* row, int64_t n, float shift) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const float e = ExpInline(row[j + l] - shift);
      row[j + l] = e;
      acc[l] += e;
    }
  for (; j < n; ++j) {
    row[j] = ExpInline(row[j] - shift);
    acc[0] += row[j];
  }
  float sum = 0.0f;
  for (float a : acc) sum += a;
  return sum;
}

void MaskedSoftmaxRow(float* row, int64_t n, int64_t valid) {
  if (valid <= 0) {  // torch: all scores finfo.min -> uniform over every key
    for (int64_t j = 0; j < n; ++j) row[j] = 1.0f / static_cast<float>(n);
    return;
  }
  const float inv = 1.0f / ExpShiftSum(row, valid, RowMax(row, valid));
  for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
  for (int64_t j = valid; j < n; ++j) row[j] = 0.0f;
}

// bfloat16 = the upper half of float32 rounded to nearest even. Finite inputs only (these are
// probabilities): core/dtype.h's F32ToBf16 keeps NaNs, and its branch stops loops vectorizing.
static inline uint16_t RoundToBf16(float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

float ScaledExpToBf16Reference(const float* row, int64_t n, float scale, uint16_t* out) {
  const float shift = -scale * RowMax(row, n);
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    const float e = ExpInline(row[j] * scale + shift);
    sum += e;
    out[j] = RoundToBf16(e);
  }
  return sum;
}

EMBODY_MULTIVERSION
void ConvertToBf16Reference(const float* x, int64_t n, uint16_t* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = RoundToBf16(x[j]);
}

float ScaledExpToBf16(const float* row, int64_t n, float scale, uint16_t* out) {
  static const bool avx512 = avx512::Bf16Available();
  return avx512 ? avx512::ScaledExpToBf16(row, n, scale, out) : ScaledExpToBf16Reference(row, n, scale, out);
}

void ApplyRope(float* x, int64_t rows, int64_t heads, int64_t head_dim, int64_t ld, const int32_t* positions, float base) {
  const int64_t half = head_dim / 2;
  // timescale_i = base ** ((2 / d) * i) in float32, as LeRobot computes it.
  float timescale[256];
  for (int64_t i = 0; i < half && i < 256; ++i)
    timescale[i] = std::pow(base, (2.0f / static_cast<float>(head_dim)) * static_cast<float>(i));
#pragma omp parallel for schedule(static) if (rows * heads * head_dim > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    float sin_v[256], cos_v[256];
    for (int64_t i = 0; i < half; ++i) {
      const float rad = static_cast<float>(positions[r]) / timescale[i];
      sin_v[i] = std::sin(rad);
      cos_v[i] = std::cos(rad);
    }
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + r * ld + h * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = v[i], x2 = v[i + half];
        v[i] = x1 * cos_v[i] - x2 * sin_v[i];
        v[i + half] = x2 * cos_v[i] + x1 * sin_v[i];
      }
    }
  }
}

}  // namespace embody::kernels
