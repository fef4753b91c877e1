// The fast linear: embody's AVX-512 GEMM (arch/avx512) where the CPU has it, with bias,
// activation and residual as an epilogue. It serves fixed and per-call row counts alike (the
// packed weights do not depend on M), and measured 4-16% faster than oneDNN 2.6's f32 GEMM on
// the transformer shapes and 1.4-1.6x on the small-M ones (the 50-token action expert).
#pragma once

#include <memory>

#include "kernels/ops.h"

namespace embody::kernels {

// nullptr when the CPU lacks AVX-512 (callers fall back to oneDNN).
std::unique_ptr<LinearOp> MakeAvx512Linear(const LinearParams& p, const float* weight, const float* bias);

}  // namespace embody::kernels
