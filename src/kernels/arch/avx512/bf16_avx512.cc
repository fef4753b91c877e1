#include "kernels/arch/avx512/bf16_avx512.h"

#include <cstdlib>

#if defined(__x86_64__)
#define EMBODY_BF16_X86 1
#include <immintrin.h>
#else
#define EMBODY_BF16_X86 0
#endif

namespace embody::kernels::avx512 {

#if EMBODY_BF16_X86

#define EMBODY_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define EMBODY_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,fma,avx512bf16")))

// GCC 12 reports its own _mm512_undefined_* placeholders inside the reduce and masked
// intrinsics as (maybe-)uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace {

// The lanes of a 16-float step with `left` values remaining (all 16 when left >= 16).
inline __mmask16 TailMask(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1); }

// Four independent accumulators: vmaxps has a 4-cycle latency, and a single chain ran the
// pass at a quarter of the load rate.
EMBODY_AVX512 float RowMax(const float* row, int64_t n) {
  __m512 m0 = _mm512_set1_ps(row[0]), m1 = m0, m2 = m0, m3 = m0;
  int64_t j = 0;
  for (; j + 64 <= n; j += 64) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(row + j));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(row + j + 16));
    m2 = _mm512_max_ps(m2, _mm512_loadu_ps(row + j + 32));
    m3 = _mm512_max_ps(m3, _mm512_loadu_ps(row + j + 48));
  }
  for (; j < n; j += 16) {
    const __mmask16 k = TailMask(n - j);
    m0 = _mm512_mask_max_ps(m0, k, m0, _mm512_maskz_loadu_ps(k, row + j));
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

// exp(x) for x <= 0 with the portable ExpInline's constants (Cephes' expf): the same range
// reduction and polynomial, so both agree to an ulp or so (FMA contraction may differ).
EMBODY_AVX512 inline __m512 Exp(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3365447504019f));
  const __m512 n = _mm512_roundscale_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f)),
                                        _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  const __m512 z = _mm512_mul_ps(r, r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_add_ps(_mm512_fmadd_ps(y, z, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);  // y * 2^n in one instruction (n is integral)
}

// bfloat16 by round to nearest even on the bits (finite inputs), 16 values to 16 halves.
EMBODY_AVX512 inline __m256i ToBf16(__m512 v) {
  const __m512i b = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16));
}

// The last n - j (< 32) values of ScaledExpToBf16: masked 16-lane steps, rounded with ToBf16.
EMBODY_AVX512 inline __m512 ScaledExpTail(const float* row, int64_t j, int64_t n, __m512 s, __m512 shift,
                                          uint16_t* out, __m512 sum) {
  for (; j < n; j += 16) {
    const __mmask16 k = TailMask(n - j);
    const __m512 e = _mm512_maskz_mov_ps(k, Exp(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, row + j), s, shift)));
    sum = _mm512_add_ps(sum, e);
    _mm256_mask_storeu_epi16(out + j, k, ToBf16(e));
  }
  return sum;
}

// The two 16-value halves of a 32-value step, rounded to bf16 by the instruction made for it.
EMBODY_AVX512_BF16 inline void StoreBf16x32(uint16_t* out, __m512 lo, __m512 hi) {
  _mm512_storeu_si512(out, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
}

}  // namespace

// The same loop for CPUs with AVX512-BF16 (Cooper Lake, Sapphire Rapids, Zen 4): one
// vcvtne2ps2bf16 replaces the 12 integer instructions of two ToBf16 calls, which took a third
// of this kernel's cycles.
EMBODY_AVX512_BF16 static float ScaledExpToBf16Bf16Isa(const float* row, int64_t n, float scale, uint16_t* out) {
  const __m512 s = _mm512_set1_ps(scale), shift = _mm512_set1_ps(-scale * RowMax(row, n));
  __m512 sum0 = _mm512_setzero_ps(), sum1 = sum0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512 e0 = Exp(_mm512_fmadd_ps(_mm512_loadu_ps(row + j), s, shift));
    const __m512 e1 = Exp(_mm512_fmadd_ps(_mm512_loadu_ps(row + j + 16), s, shift));
    sum0 = _mm512_add_ps(sum0, e0);
    sum1 = _mm512_add_ps(sum1, e1);
    StoreBf16x32(out + j, e0, e1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(ScaledExpTail(row, j, n, s, shift, out, sum0), sum1));
}

EMBODY_AVX512 float ScaledExpToBf16IntegerRounding(const float* row, int64_t n, float scale, uint16_t* out) {
  const __m512 s = _mm512_set1_ps(scale), shift = _mm512_set1_ps(-scale * RowMax(row, n));
  __m512 sum0 = _mm512_setzero_ps(), sum1 = sum0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512 e0 = Exp(_mm512_fmadd_ps(_mm512_loadu_ps(row + j), s, shift));
    const __m512 e1 = Exp(_mm512_fmadd_ps(_mm512_loadu_ps(row + j + 16), s, shift));
    sum0 = _mm512_add_ps(sum0, e0);
    sum1 = _mm512_add_ps(sum1, e1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), ToBf16(e0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j + 16), ToBf16(e1));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(ScaledExpTail(row, j, n, s, shift, out, sum0), sum1));
}

static bool HasBf16Isa() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
  }();
  return has;
}

EMBODY_AVX512_BF16 static void ConvertToBf16Bf16Isa(const float* x, int64_t n, uint16_t* out) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) StoreBf16x32(out + j, _mm512_loadu_ps(x + j), _mm512_loadu_ps(x + j + 16));
  for (; j < n; j += 16) {
    const __mmask16 k = TailMask(n - j);
    _mm256_mask_storeu_epi16(out + j, k, ToBf16(_mm512_maskz_loadu_ps(k, x + j)));
  }
}

EMBODY_AVX512 static void ConvertToBf16IntegerRounding(const float* x, int64_t n, uint16_t* out) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = TailMask(n - j);
    _mm256_mask_storeu_epi16(out + j, k, ToBf16(_mm512_maskz_loadu_ps(k, x + j)));
  }
}

void ConvertToBf16(const float* x, int64_t n, uint16_t* out) {
  if (HasBf16Isa()) {
    ConvertToBf16Bf16Isa(x, n, out);
  } else {
    ConvertToBf16IntegerRounding(x, n, out);
  }
}

float ScaledExpToBf16(const float* row, int64_t n, float scale, uint16_t* out) {
  const bool bf16_isa = HasBf16Isa();
  return bf16_isa ? ScaledExpToBf16Bf16Isa(row, n, scale, out) : ScaledExpToBf16IntegerRounding(row, n, scale, out);
}

bool Bf16Available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

#else

// REQUIRES: Bf16Available(), never true here.
float ScaledExpToBf16(const float*, int64_t, float, uint16_t*) { std::abort(); }
float ScaledExpToBf16IntegerRounding(const float*, int64_t, float, uint16_t*) { std::abort(); }
void ConvertToBf16(const float*, int64_t, uint16_t*) { std::abort(); }
bool Bf16Available() { return false; }

#endif

}  // namespace embody::kernels::avx512
