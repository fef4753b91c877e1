// int8 / int4 linear on AVX-512 VNNI: u8 x s8 vpdpbusd into int32, 14 x 32 register tile.
//
// Activations are quantized to s8 and stored +128 as u8 (vpdpbusd multiplies unsigned by signed
// bytes, summing 4 products per int32 lane with no intermediate saturation); the +128 is removed
// exactly by the per-column compensation 128 * sum_k w (int_linear_driver.h).
// Tile: 14 rows x 2 zmm (32 columns) = 28 int32 accumulators, 2 weight vectors and one broadcast
// register: each group of 4 k loads two 64-byte weight vectors and 14 broadcast 4-byte
// activation words, for 28 vpdpbusd (2 per cycle on Sapphire Rapids' ports 0 and 5), the same
// shape as the f32 kernel in arch/avx512 (28 independent chains cover the 5-cycle latency).
//
// The whole file after the includes is compiled for AVX-512 (pragma), including the generic
// driver's quantization and epilogue loops; it is only entered when IsaAvailable(kAvx512Vnni).
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

#if defined(__x86_64__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,fma,avx2,f16c")
#include "kernels/quant/int_linear_driver.h"

namespace embody::kernels::quant {
namespace {

struct Avx512VnniKernel {
  using AType = uint8_t;
  static constexpr int kMr = 14, kNr = 32, kKg = 4, kAOffset = 128;

  template <int MR>
  static void Tile(const uint8_t* a, const int8_t* w, int64_t groups, int32_t* c) {
    constexpr int NV = 2;
    // Fewer than ~10 accumulators would wait on the vpdpbusd latency: small tiles keep S sets
    // over alternating groups and add them at the end.
    constexpr int S = MR * NV >= 10 ? 1 : (MR * NV >= 4 ? 2 : 4);
    __m512i acc[S][MR][NV];
    for (int s = 0; s < S; ++s)
      for (int r = 0; r < MR; ++r)
        for (int v = 0; v < NV; ++v) acc[s][r][v] = _mm512_setzero_si512();
    int64_t g = 0;
    auto step = [&](int s, int64_t gg) __attribute__((always_inline)) {
      const __m512i w0 = _mm512_loadu_si512(w + gg * kNr * kKg);
      const __m512i w1 = _mm512_loadu_si512(w + gg * kNr * kKg + 64);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        int32_t word;
        std::memcpy(&word, a + (gg * MR + r) * kKg, 4);
        const __m512i av = _mm512_set1_epi32(word);
        acc[s][r][0] = _mm512_dpbusd_epi32(acc[s][r][0], av, w0);
        acc[s][r][1] = _mm512_dpbusd_epi32(acc[s][r][1], av, w1);
      }
    };
    for (; g + S <= groups; g += S)
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) step(s, g + s);
    for (; g < groups; ++g) step(0, g);
    for (int s = 1; s < S; ++s)
      for (int r = 0; r < MR; ++r)
        for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm512_add_epi32(acc[0][r][v], acc[s][r][v]);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      _mm512_storeu_si512(c + r * kNr, acc[0][r][0]);
      _mm512_storeu_si512(c + r * kNr + 16, acc[0][r][1]);
    }
  }
};

}  // namespace

std::unique_ptr<LinearOp> MakeAvx512VnniLinear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                               const QuantOptions& q) {
  return std::make_unique<IntLinear<Avx512VnniKernel>>(p, w, bias, q);
}

}  // namespace embody::kernels::quant

#pragma GCC pop_options

#else  // not x86-64

namespace embody::kernels::quant {
std::unique_ptr<LinearOp> MakeAvx512VnniLinear(const LinearParams&, const PackedWeights&, const float*,
                                               const QuantOptions&) {
  return nullptr;
}
}  // namespace embody::kernels::quant

#endif
