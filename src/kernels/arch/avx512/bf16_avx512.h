// float32 -> bfloat16 work of the bf16 kernels in AVX-512 intrinsics: the attention's softmax
// numerator (the same arithmetic as the portable kernels::ScaledExpToBf16Reference in
// elementwise.h, which GCC did not vectorize well once the exponential, the sum and the bf16
// rounding shared one loop) and the bf16 linear's activation rows. Each rounds to nearest even,
// with vcvtne2ps2bf16 where the CPU has AVX512-BF16 and integer arithmetic otherwise. Compiled with
// per-function target attributes (baseline x86-64 build); call Available() first. Off x86-64
// the file compiles to a stub and Available() is false.
#pragma once

#include <cstdint>

namespace embody::kernels::avx512 {

// out[j] = bf16(exp(scale * (row[j] - max(row)))) for j < n (round to nearest even), returns
// the sum of the unrounded exponentials. n >= 1, scale > 0, finite inputs.
// REQUIRES: Bf16Available().
float ScaledExpToBf16(const float* row, int64_t n, float scale, uint16_t* out);

// The variant ScaledExpToBf16 picks on AVX-512 CPUs without AVX512-BF16 (Skylake-X, Ice
// Lake), which rounds to bf16 with integer instructions; public for its test on CPUs that have
// the instruction. REQUIRES: Bf16Available().
float ScaledExpToBf16IntegerRounding(const float* row, int64_t n, float scale, uint16_t* out);

// out[j] = bf16(x[j]) for j < n (round to nearest even, finite inputs).
// REQUIRES: Bf16Available().
void ConvertToBf16(const float* x, int64_t n, uint16_t* out);

// AVX-512 F/BW/VL and FMA are present.
bool Bf16Available();

}  // namespace embody::kernels::avx512
