// f16 linear on AArch64 NEON with half-precision arithmetic (ARMv8.2 FEAT_FP16: Cortex-A55, A76,
// the i.MX95's cores): the weights stay IEEE binary16 in memory (half the bytes of f32, which is
// what the memory-bound expert pays for), each activation row is rounded to f16, and the
// products are fused multiply-adds on 8 half lanes, twice the f32 rate per instruction. The
// layer around the micro-kernel (packing, threads, epilogue, and why partial sums return to f32
// every 16 steps) is quant/half_linear_driver.h.
//
// Tile: 4 rows x 16 columns. Per k: 2 weight registers (16 halves of the packed panel), 1
// activation register (the 4 rows' halves), 8 fmla by element into 8 f16 accumulators; every
// 16 steps 16 widenings into 16 f32x4 accumulators. 27 of the 32 vector registers.
//
// The file after the includes is compiled for armv8.2-a+fp16 (pragma); it is only entered when
// HasCpuFeature(kNeonFp16) (HWCAP_ASIMDHP).
#include <algorithm>
#include <cstdint>
#include <memory>

#include "kernels/quant/formats.h"
#include "kernels/quant/quant_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+fp16")
#include "kernels/quant/half_linear_driver.h"

namespace embody::kernels::quant {
namespace {

struct NeonFp16Kernel {
  using Half = float16_t;
  static constexpr int kMr = 4, kNr = 16;

  static void Tile(const float16_t* a, const float16_t* w, int64_t k, float* c) {
    float32x4_t acc[kMr][4];
    for (auto& row : acc)
      for (auto& v : row) v = vdupq_n_f32(0.0f);
    for (int64_t k0 = 0; k0 < k; k0 += kHalfKBlock) {
      const int64_t end = std::min<int64_t>(k, k0 + kHalfKBlock);
      float16x8_t h[kMr][2];
      for (auto& row : h) row[0] = row[1] = vdupq_n_f16(0);
      for (int64_t t = k0; t < end; ++t) {
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
};

}  // namespace

std::unique_ptr<LinearOp> MakeNeonFp16Linear(const LinearParams& p, const PackedWeights& w, const float* bias) {
  return std::make_unique<HalfLinear<NeonFp16Kernel>>(p, w, bias);
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
