// int8 / int4 linear on AVX2 (Haswell and later, Zen): int16 pairs with vpmaddwd into int32.
//
// AVX2 has no int8 dot product that is exact for the full s8 range (vpmaddubsw saturates its
// 16-bit pair sums at 255 * 127 * 2), so activations are stored as int16 pairs and the int8
// weights are sign-extended to int16 as they are loaded (vpmovsxbw, one per weight vector, shared
// by all rows): vpmaddwd then yields exact 2-term int32 sums that vpaddd accumulates.
// Tile: 6 rows x 2 ymm (16 columns) = 12 accumulators, 2 weight vectors, one broadcast: 15 of the
// 16 ymm registers.
//
// The whole file after the includes is compiled for AVX2 + FMA (pragma); it is only entered when
// IsaAvailable(kAvx2).
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
#pragma GCC target("avx2,fma,f16c")
#include "kernels/quant/int_linear_driver.h"

namespace embody::kernels::quant {
namespace {

struct Avx2Kernel {
  using AType = int16_t;
  static constexpr int kMr = 6, kNr = 16, kKg = 2, kAOffset = 0;

  template <int MR>
  static void Tile(const int16_t* a, const int8_t* w, int64_t groups, int32_t* c) {
    __m256i acc[MR][2];
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int64_t g = 0; g < groups; ++g) {
      const int8_t* wg = w + g * kNr * kKg;
      const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg)));
      const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg + 16)));
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) {
        int32_t word;
        std::memcpy(&word, a + (g * MR + r) * kKg, 4);
        const __m256i av = _mm256_set1_epi32(word);
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, w0));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, w1));
      }
    }
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * kNr), acc[r][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * kNr + 8), acc[r][1]);
    }
  }
};

}  // namespace

std::unique_ptr<LinearOp> MakeAvx2Linear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                         const QuantOptions& q) {
  return std::make_unique<IntLinear<Avx2Kernel>>(p, w, bias, q);
}

}  // namespace embody::kernels::quant

#pragma GCC pop_options

#else  // not x86-64

namespace embody::kernels::quant {
std::unique_ptr<LinearOp> MakeAvx2Linear(const LinearParams&, const PackedWeights&, const float*,
                                         const QuantOptions&) {
  return nullptr;
}
}  // namespace embody::kernels::quant

#endif
