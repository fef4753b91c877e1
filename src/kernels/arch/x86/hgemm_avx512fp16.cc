// f16 linear on x86 with AVX512-FP16 (Sapphire Rapids and later): the x86 twin of the NEON fp16
// kernel (arch/arm/hgemm_neon.cc), sharing its layer (quant/half_linear_driver.h): binary16
// weights in memory, activation rows rounded to f16, fused multiply-adds on 32 half lanes, f16
// partial sums returned to f32 every 16 steps of k.
//
// Tile: 8 rows x 32 columns. Per k: 1 weight register (32 halves), 8 broadcast halves (one per
// row), 8 vfmadd231ph into 8 f16 accumulators; every 16 steps each accumulator widens into 2
// f32 accumulators (vcvtph2psx). 8 + 16 + 2 = 26 of the 32 zmm registers.
//
// The file after the includes is compiled for AVX512-FP16 (pragma); it is only entered when
// HasCpuFeature(kAvx512Fp16). GCC 12 is the first GCC with these intrinsics.
#include <algorithm>
#include <cstdint>
#include <memory>

#include "kernels/quant/formats.h"
#include "kernels/quant/quant_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define EMBODY_HGEMM_AVX512FP16 1
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512fp16,fma")
// GCC 12 reports its own _mm512_undefined_* placeholders inside the cast intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/quant/half_linear_driver.h"

namespace embody::kernels::quant {
namespace {

struct Avx512Fp16Kernel {
  using Half = _Float16;
  static constexpr int kMr = 8, kNr = 32;

  static void Tile(const _Float16* a, const _Float16* w, int64_t k, float* c) {
    __m512 acc[kMr][2];
    for (auto& row : acc) row[0] = row[1] = _mm512_setzero_ps();
    for (int64_t k0 = 0; k0 < k; k0 += kHalfKBlock) {
      const int64_t end = std::min<int64_t>(k, k0 + kHalfKBlock);
      __m512h h[kMr];
      for (auto& v : h) v = _mm512_setzero_ph();
      for (int64_t t = k0; t < end; ++t) {
        const __m512h wv = _mm512_loadu_ph(w + t * kNr);
        const _Float16* at = a + t * kMr;
        for (int r = 0; r < kMr; ++r) h[r] = _mm512_fmadd_ph(_mm512_set1_ph(at[r]), wv, h[r]);
      }
      for (int r = 0; r < kMr; ++r) {
        const __m512i bits = _mm512_castph_si512(h[r]);
        acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_cvtxph_ps(_mm256_castsi256_ph(_mm512_castsi512_si256(bits))));
        acc[r][1] =
            _mm512_add_ps(acc[r][1], _mm512_cvtxph_ps(_mm256_castsi256_ph(_mm512_extracti64x4_epi64(bits, 1))));
      }
    }
    for (int r = 0; r < kMr; ++r) {
      _mm512_storeu_ps(c + r * kNr, acc[r][0]);
      _mm512_storeu_ps(c + r * kNr + 16, acc[r][1]);
    }
  }
};

}  // namespace

std::unique_ptr<LinearOp> MakeAvx512Fp16Linear(const LinearParams& p, const PackedWeights& w, const float* bias) {
  return std::make_unique<HalfLinear<Avx512Fp16Kernel>>(p, w, bias);
}

}  // namespace embody::kernels::quant

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else  // not x86-64 with GCC 12+: the family is absent from this binary

namespace embody::kernels::quant {
std::unique_ptr<LinearOp> MakeAvx512Fp16Linear(const LinearParams&, const PackedWeights&, const float*) {
  return nullptr;
}
}  // namespace embody::kernels::quant

#endif
