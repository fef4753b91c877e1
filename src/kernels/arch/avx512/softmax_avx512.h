// The bf16 attention's softmax numerator in AVX-512 intrinsics: the same arithmetic as the
// portable kernels::ScaledExpToBf16Reference (elementwise.h), which GCC did not vectorize well
// once the exponential, the sum and the bf16 rounding shared one loop. Compiled with
// per-function target attributes (baseline x86-64 build); call Available() first. Off x86-64
// the file compiles to a stub and Available() is false.
#pragma once

#include <cstdint>

namespace embody::kernels::avx512 {

// out[j] = bf16(exp(scale * (row[j] - max(row)))) for j < n (round to nearest even), returns
// the sum of the unrounded exponentials. n >= 1, scale > 0, finite inputs.
// REQUIRES: SoftmaxAvailable().
float ScaledExpToBf16(const float* row, int64_t n, float scale, uint16_t* out);

// The variant ScaledExpToBf16 picks on AVX-512 CPUs without AVX512-BF16 (Skylake-X, Ice
// Lake), which rounds to bf16 with integer instructions; public for its test on CPUs that have
// the instruction. REQUIRES: SoftmaxAvailable().
float ScaledExpToBf16IntegerRounding(const float* row, int64_t n, float scale, uint16_t* out);

// AVX-512 F/BW/VL and FMA are present.
bool SoftmaxAvailable();

}  // namespace embody::kernels::avx512
