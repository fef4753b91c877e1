// Scalar reference operators: the oracle every optimized kernel is tested against.
// Written for clarity, not speed; double accumulation where it costs nothing in clarity.
#pragma once

#include "kernels/ops.h"

namespace embody::kernels::ref {

std::unique_ptr<LinearOp> MakeLinear(const LinearParams& p, const float* weight, const float* bias);
std::unique_ptr<AttentionOp> MakeAttention(const AttentionParams& p);
std::unique_ptr<GqaAttentionOp> MakeGqaAttention(const GqaParams& p);
std::unique_ptr<LayerNormOp> MakeLayerNorm(int64_t m, int64_t n, float eps, const float* gamma,
                                           const float* beta);
std::unique_ptr<ConvOp> MakeConv(const ConvParams& p, const float* weight, const float* bias);
std::unique_ptr<PoolOp> MakeMaxPool(const PoolParams& p);
std::unique_ptr<ToTokensOp> MakeToTokens(int64_t channels, int64_t h, int64_t w);

float ApplyActivation(Activation act, float x);

}  // namespace embody::kernels::ref
