// f16 linear on AArch64 NEON with half-precision arithmetic (ARMv8.2 FEAT_FP16: Cortex-A55, A76,
// the i.MX95's cores): the weights stay IEEE binary16 in memory (half the bytes of f32, which is
// what the memory-bound expert pays for), each activation row is rounded to f16, and the
// products are fused multiply-adds on 8 half lanes, twice the f32 rate per instruction.
//
// Accumulation: f16 accumulators over at most kKBlock (16) steps of k, then widened and added to
// f32 accumulators. Summing a whole row in f16 (as f16-only GEMMs do) would round every partial
// sum to 11 bits and let the error grow with k (3200 for ACT's feed-forward); 16 steps bound the
// f16 part of the rounding to a few ulps of a 16-term sum, and the f32 sums carry the rest.
//
// Tile: 4 rows x 16 columns. Per k: 2 weight registers (16 halves of the packed panel), 1
// activation register (the 4 rows' halves, k-major in the packed sliver), 8 fmla by element into
// 8 f16 accumulators; every kKBlock steps 16 widenings into 16 f32x4 accumulators. 27 of the 32
// vector registers.
//
// Layouts (built at creation / per call, no allocation in Run):
//   weights: panels of 16 columns, k-major: panel p holds w[16 p + j][k] at [k * 16 + j], columns
//            past n zero;
//   activations: per 4-row sliver, k-major: row r's k at [k * 4 + r], rows past the call's zero.
//
// The file after the includes is compiled for armv8.2-a+fp16 (pragma); it is only entered when
// HasCpuFeature(kNeonFp16) (HWCAP_ASIMDHP).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/quant/formats.h"
#include "kernels/quant/quant_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+fp16")

namespace embody::kernels::quant {
namespace {

constexpr int kMr = 4, kNr = 16, kKBlock = 16;

// C[4, 16] = A sliver (k-major, 4 halves per k) x W panel (k-major, 16 halves per k), f32 out.
void Tile(const float16_t* a, const float16_t* w, int64_t k, float* c) {
  float32x4_t acc[kMr][4];
  for (auto& row : acc)
    for (auto& v : row) v = vdupq_n_f32(0.0f);
  for (int64_t k0 = 0; k0 < k; k0 += kKBlock) {
    const int64_t kb = std::min<int64_t>(kKBlock, k - k0);
    float16x8_t h[kMr][2];
    for (auto& row : h) row[0] = row[1] = vdupq_n_f16(0);
    for (int64_t t = k0; t < k0 + kb; ++t) {
      const float16x8_t w0 = vld1q_f16(w + t * kNr), w1 = vld1q_f16(w + t * kNr + 8);
      const float16x4_t av = vld1_f16(a + t * kMr);
      h[0][0] = vfmaq_lane_f16(h[0][0], w0, av, 0);
      h[0][1] = vfmaq_lane_f16(h[0][1], w1, av, 0);
      h[1][0] = vfmaq_lane_f16(h[1][0], w0, av, 1);
      h[1][1] = vfmaq_lane_f16(h[1][1], w1, av, 1);
      h[2][0] = vfmaq_lane_f16(h[2][0], w0, av, 2);
      h[2][1] = vfmaq_lane_f16(h[2][1], w1, av, 2);
      h[3][0] = vfmaq_lane_f16(h[3][0], w0, av, 3);
      h[3][1] = vfmaq_lane_f16(h[3][1], w1, av, 3);
    }
    for (int r = 0; r < kMr; ++r) {
      acc[r][0] = vaddq_f32(acc[r][0], vcvt_f32_f16(vget_low_f16(h[r][0])));
      acc[r][1] = vaddq_f32(acc[r][1], vcvt_high_f32_f16(h[r][0]));
      acc[r][2] = vaddq_f32(acc[r][2], vcvt_f32_f16(vget_low_f16(h[r][1])));
      acc[r][3] = vaddq_f32(acc[r][3], vcvt_high_f32_f16(h[r][1]));
    }
  }
  for (int r = 0; r < kMr; ++r)
    for (int q = 0; q < 4; ++q) vst1q_f32(c + r * kNr + 4 * q, acc[r][q]);
}

class NeonFp16Linear final : public LinearOp {
 public:
  NeonFp16Linear(const LinearParams& p, const PackedWeights& w, const float* bias) : p_(p) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
    const int64_t n = p_.n, k = p_.k;
    panels_ = (n + kNr - 1) / kNr;
    weights_.assign(static_cast<size_t>(panels_ * kNr * k), 0);
    const auto* half = reinterpret_cast<const uint16_t*>(w.data.data());
    auto* packed = reinterpret_cast<uint16_t*>(weights_.data());
    for (int64_t j = 0; j < n; ++j)
      for (int64_t t = 0; t < k; ++t)
        packed[(j / kNr) * kNr * k + t * kNr + j % kNr] = half[j * k + t];
    bias_.assign(static_cast<size_t>(n), 0.0f);
    if (bias) std::copy(bias, bias + n, bias_.begin());
    slivers_ = (p_.m + kMr - 1) / kMr;
    a_.assign(static_cast<size_t>(slivers_ * kMr * k), 0);
    c_.assign(static_cast<size_t>(slivers_ * kMr * panels_ * kNr), 0.0f);
  }

  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }

  void RunRows(const float* x, int64_t rows, float* y, const float* res) override {
    if (rows <= 0) return;
    const int64_t k = p_.k, n = p_.n, slivers = (rows + kMr - 1) / kMr, cols = panels_ * kNr;
#pragma omp parallel for schedule(static) if (rows * k > 32768)
    for (int64_t s = 0; s < slivers; ++s) {
      float16_t* as = a_.data() + s * kMr * k;
      for (int r = 0; r < kMr; ++r) {
        const int64_t row = s * kMr + r;
        if (row >= rows) {
          for (int64_t t = 0; t < k; ++t) as[t * kMr + r] = 0;
          continue;
        }
        const float* xr = x + row * p_.ldx;
        for (int64_t t = 0; t < k; ++t) as[t * kMr + r] = static_cast<float16_t>(xr[t]);
      }
    }
#pragma omp parallel for collapse(2) schedule(static) if (rows * n * k > 262144)
    for (int64_t s = 0; s < slivers; ++s)
      for (int64_t pnl = 0; pnl < panels_; ++pnl) {
        float tile[kMr * kNr];
        Tile(a_.data() + s * kMr * k, weights_.data() + pnl * kNr * k, k, tile);
        for (int r = 0; r < kMr; ++r)
          std::memcpy(c_.data() + (s * kMr + r) * cols + pnl * kNr, tile + r * kNr, sizeof(float) * kNr);
      }
    FinishRows(p_, c_.data(), rows, cols, bias_.data(), res, y);
  }

 private:
  LinearParams p_;
  int64_t panels_ = 0, slivers_ = 0;
  std::vector<float16_t> weights_, a_;
  std::vector<float> c_, bias_;
};

}  // namespace

std::unique_ptr<LinearOp> MakeNeonFp16Linear(const LinearParams& p, const PackedWeights& w, const float* bias) {
  return std::make_unique<NeonFp16Linear>(p, w, bias);
}

}  // namespace embody::kernels::quant

#pragma GCC pop_options

#else  // not AArch64: the family is absent from this binary

namespace embody::kernels::quant {
std::unique_ptr<LinearOp> MakeNeonFp16Linear(const LinearParams&, const PackedWeights&, const float*) {
  return nullptr;
}
}  // namespace embody::kernels::quant

#endif
