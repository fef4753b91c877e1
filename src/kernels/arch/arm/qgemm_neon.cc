// int8 / int4 linear on AArch64 NEON with the ARMv8.2 dot product (sdot): Cortex-A55, A76, ...
//
// sdot multiplies 4 signed bytes by 4 signed bytes per int32 lane and accumulates exactly, so
// activations stay s8 (no offset, no compensation). Tile: 8 rows x 12 columns = 24 int32x4
// accumulators; per group of 4 k, 2 activation registers (4 rows x 4 bytes each) and 3 weight
// registers (4 columns x 4 bytes each), and each accumulator takes sdot by-element (laneq) with
// its row's 4 bytes: 24 sdot per 5 loads, 29 of the 32 vector registers.
//
// The file after the includes is compiled for armv8.2-a+dotprod (pragma); it is only entered when
// IsaAvailable(kNeonDot) (HWCAP_ASIMDDP).
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/quant/formats.h"
#include "kernels/quant/quant_internal.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#include "kernels/quant/int_linear_driver.h"

namespace embody::kernels::quant {
namespace {

struct NeonDotKernel {
  using AType = int8_t;
  static constexpr int kMr = 8, kNr = 12, kKg = 4, kAOffset = 0;

  template <int MR>
  static void Tile(const int8_t* a, const int8_t* w, int64_t groups, int32_t* c) {
    int32x4_t acc[MR][3];
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = acc[r][2] = vdupq_n_s32(0);
    for (int64_t g = 0; g < groups; ++g) {
      const int8_t* wg = w + g * kNr * kKg;
      const int8x16_t w0 = vld1q_s8(wg), w1 = vld1q_s8(wg + 16), w2 = vld1q_s8(wg + 32);
      const int8_t* ag = a + g * MR * kKg;
      if constexpr (MR % 4 == 0) {
        // By-element sdot: lane L of an activation register is row 4 q + L.
        [&]<int... Q>(std::integer_sequence<int, Q...>) {
          (
              [&] {
                const int8x16_t av = vld1q_s8(ag + 16 * Q);
                acc[4 * Q + 0][0] = vdotq_laneq_s32(acc[4 * Q + 0][0], w0, av, 0);
                acc[4 * Q + 0][1] = vdotq_laneq_s32(acc[4 * Q + 0][1], w1, av, 0);
                acc[4 * Q + 0][2] = vdotq_laneq_s32(acc[4 * Q + 0][2], w2, av, 0);
                acc[4 * Q + 1][0] = vdotq_laneq_s32(acc[4 * Q + 1][0], w0, av, 1);
                acc[4 * Q + 1][1] = vdotq_laneq_s32(acc[4 * Q + 1][1], w1, av, 1);
                acc[4 * Q + 1][2] = vdotq_laneq_s32(acc[4 * Q + 1][2], w2, av, 1);
                acc[4 * Q + 2][0] = vdotq_laneq_s32(acc[4 * Q + 2][0], w0, av, 2);
                acc[4 * Q + 2][1] = vdotq_laneq_s32(acc[4 * Q + 2][1], w1, av, 2);
                acc[4 * Q + 2][2] = vdotq_laneq_s32(acc[4 * Q + 2][2], w2, av, 2);
                acc[4 * Q + 3][0] = vdotq_laneq_s32(acc[4 * Q + 3][0], w0, av, 3);
                acc[4 * Q + 3][1] = vdotq_laneq_s32(acc[4 * Q + 3][1], w1, av, 3);
                acc[4 * Q + 3][2] = vdotq_laneq_s32(acc[4 * Q + 3][2], w2, av, 3);
              }(),
              ...);
        }(std::make_integer_sequence<int, MR / 4>{});
      } else {
        for (int r = 0; r < MR; ++r) {
          int32_t word;
          std::memcpy(&word, ag + r * kKg, 4);
          const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(word));
          acc[r][0] = vdotq_s32(acc[r][0], w0, av);
          acc[r][1] = vdotq_s32(acc[r][1], w1, av);
          acc[r][2] = vdotq_s32(acc[r][2], w2, av);
        }
      }
    }
    for (int r = 0; r < MR; ++r) {
      vst1q_s32(c + r * kNr, acc[r][0]);
      vst1q_s32(c + r * kNr + 4, acc[r][1]);
      vst1q_s32(c + r * kNr + 8, acc[r][2]);
    }
  }
};

}  // namespace

std::unique_ptr<LinearOp> MakeNeonDotLinear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                            const QuantOptions& q) {
  return std::make_unique<IntLinear<NeonDotKernel>>(p, w, bias, q);
}

}  // namespace embody::kernels::quant

#pragma GCC pop_options

#else  // not AArch64

namespace embody::kernels::quant {
std::unique_ptr<LinearOp> MakeNeonDotLinear(const LinearParams&, const PackedWeights&, const float*,
                                            const QuantOptions&) {
  return nullptr;
}
}  // namespace embody::kernels::quant

#endif
