// Inside kernels/quant: the per-family factories behind MakeQuantizedLinear / MakeQuantizedConv.
// Each returns nullptr when its family was not built into this binary (another architecture).
// REQUIRES (checked by the caller): w.Validate() ok, p.n == w.n, p.k == w.k, p.m > 0, format
// int8 or int4 (the integer factories).
#pragma once

#include <memory>
#include <vector>

#include "kernels/quant/int8_pipeline.h"
#include "kernels/quant/quant_linear.h"

namespace embody::kernels::quant {

// Scalar reference for every format (f32/f16/bf16 through the f32 reference on dequantized
// weights).
std::unique_ptr<LinearOp> MakeRefLinear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                        const QuantOptions& q);
std::unique_ptr<ConvOp> MakeRefConv(const ConvParams& p, const PackedWeights& w, const float* bias,
                                    const QuantOptions& q);

// The linear of one named family (which must be available): tests and benchmarks.
Result<std::unique_ptr<LinearOp>> MakeQuantizedLinearWithIsa(KernelIsa isa, const LinearParams& p,
                                                             const PackedWeights& w, const float* bias,
                                                             const QuantOptions& q);

std::unique_ptr<LinearOp> MakeAvx512VnniLinear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                               const QuantOptions& q);
std::unique_ptr<LinearOp> MakeAvx2Linear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                         const QuantOptions& q);
std::unique_ptr<LinearOp> MakeNeonDotLinear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                            const QuantOptions& q);
// The f32 end of the 16-bit linears: for each of `rows` rows of acc (leading dimension ld_acc,
// clobbered), y = act(acc + bias) (+ residual, which may alias y), with p's n, act, residual,
// ldy and ldr (both resolved, non-zero).
void FinishRows(const LinearParams& p, float* acc, int64_t rows, int64_t ld_acc, const float* bias,
                const float* residual, float* y);

// f16 weights on AArch64 NEON with half-precision arithmetic (arch/arm/hgemm_neon.cc).
// REQUIRES: HasCpuFeature(kNeonFp16), format kF16.
std::unique_ptr<LinearOp> MakeNeonFp16Linear(const LinearParams& p, const PackedWeights& w, const float* bias);
// The same on x86 with AVX512-FP16 (arch/x86/hgemm_avx512fp16.cc). REQUIRES: kAvx512Fp16, kF16.
std::unique_ptr<LinearOp> MakeAvx512Fp16Linear(const LinearParams& p, const PackedWeights& w, const float* bias);
// oneDNN s8 x s8 -> s32 matmul (AMX/VNNI) with embody's epilogue; int8 only. Errors from oneDNN
// become Status.
Result<std::unique_ptr<LinearOp>> MakeOneDnnInt8Linear(const LinearParams& p, const PackedWeights& w,
                                                       const float* bias, const QuantOptions& q);
// oneDNN bf16 x bf16 -> f32 matmul (AMX/AVX512-BF16) on bf16 weights; Unimplemented where
// oneDNN would run its reference bf16 kernel (or the build has no oneDNN).
Result<std::unique_ptr<LinearOp>> MakeOneDnnBf16Linear(const LinearParams& p, const PackedWeights& w,
                                                       const float* bias);
Result<std::unique_ptr<ConvOp>> MakeOneDnnInt8Conv(const ConvParams& p, const PackedWeights& w, const float* bias,
                                                   const QuantOptions& q);

}  // namespace embody::kernels::quant

// ---- int8 pipelines (int8_pipeline.h) ----
namespace embody::kernels::quant {

// The per-output-channel constants of a pipeline conv's epilogue, shared by every backend so
// they agree: v = oscale[o] * (float(acc) + bias[o]) (+ sum_scale * q_res), see int8_pipeline.h.
struct PipelineEpilogue {
  std::vector<float> oscale, bias;
  float sum_scale = 1.0f;
};
PipelineEpilogue MakePipelineEpilogue(const PipelineConvParams& p, const PackedWeights& w, const float* bias);

// REQUIRES (checked by MakePipelineConv / MakePipelineMaxPool): valid params and int8 weights.
std::unique_ptr<PipelineConvOp> MakeRefPipelineConv(const PipelineConvParams& p, const PackedWeights& w,
                                                    const float* bias);
std::unique_ptr<PoolOp> MakeRefPipelineMaxPool(const PoolParams& p, PipelineType t);
#ifndef EMBODY_KERNELS_NO_ONEDNN
Result<std::unique_ptr<PipelineConvOp>> MakeOneDnnPipelineConv(const PipelineConvParams& p, const PackedWeights& w,
                                                               const float* bias);
Result<std::unique_ptr<PoolOp>> MakeOneDnnPipelineMaxPool(const PoolParams& p, PipelineType t);
#endif

}  // namespace embody::kernels::quant
