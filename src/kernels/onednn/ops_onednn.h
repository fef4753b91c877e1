// oneDNN implementations of kernels/ops.h. Primitives, packed weights and memory objects are
// built at creation; Run() only swaps data handles and executes.
#pragma once

#include "kernels/ops.h"

namespace embody::kernels::onednn {

Result<std::unique_ptr<LinearOp>> MakeLinear(const LinearParams& p, const float* weight, const float* bias);
Result<std::unique_ptr<LinearOp>> MakeDynamicLinear(const LinearParams& p, const float* weight, const float* bias);
Result<std::unique_ptr<AttentionOp>> MakeAttention(const AttentionParams& p);
Result<std::unique_ptr<GqaAttentionOp>> MakeGqaAttention(const GqaParams& p);
Result<std::unique_ptr<LayerNormOp>> MakeLayerNorm(int64_t m, int64_t n, float eps, const float* gamma,
                                                   const float* beta);
Result<std::unique_ptr<ConvOp>> MakeConv(const ConvParams& p, const float* weight, const float* bias);
Result<std::unique_ptr<PoolOp>> MakeMaxPool(const PoolParams& p);
Result<std::unique_ptr<ToTokensOp>> MakeToTokens(int64_t channels, int64_t h, int64_t w);

// The implementation oneDNN chose for the last convolution created (e.g. "jit:avx512_core"),
// for benchmark logs.
std::string LastConvImplementation();

}  // namespace embody::kernels::onednn
