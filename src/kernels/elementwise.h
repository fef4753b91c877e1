// Elementwise and row-wise helpers shared by both backends: activations, RMSNorm, masked
// softmax, rotary embedding, SiLU gating. Plain loops the compiler vectorizes; each hot one is
// built for AVX-512, AVX2 and baseline x86 and picked at load time (GCC target_clones), and
// for the build target elsewhere (ARM builds get NEON from -O3).
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace embody::kernels {

// exp(x) in float32 with ~1 ulp error, branch-free so loops over it vectorize. exp(-inf) = 0.
float FastExp(float x);

// y = act(y) over n values.
void ApplyActivationInPlace(Activation act, float* y, int64_t n);

// y[i, :] = x[i, :] * rsqrt(mean(x[i, :]^2) + eps) * w, computed in float32 as HF's
// LlamaRMSNorm does. y may alias x.
void RmsNorm(const float* x, int64_t rows, int64_t n, int64_t ldx, const float* w, float eps, float* y, int64_t ldy);

// out[i, j] = silu(gate_up[i, j]) * gate_up[i, inter + j] for j < inter (the fused [gate | up]
// projection of a Llama MLP).
void SiluGate(const float* gate_up, int64_t rows, int64_t inter, float* out);

// Softmax over the first `valid` entries of row (length n); entries past `valid` become 0.
void MaskedSoftmaxRow(float* row, int64_t n, int64_t valid);

// Softmax of row (length n) written as bfloat16 (round to nearest even) to out; row is
// clobbered (it holds the unnormalized exponentials afterwards). The f32 softmax of the bf16
// attention: the division and the rounding share one pass, so the f32 probabilities are never
// stored.
void SoftmaxRowToBf16(float* row, int64_t n, uint16_t* out);

// LeRobot SmolVLA's apply_rope (HF rotate-half layout, float32): for each row r with position
// positions[r] and each head h, x[:d/2], x[d/2:] are rotated by theta_i = pos / base^(2i/d).
void ApplyRope(float* x, int64_t rows, int64_t heads, int64_t head_dim, int64_t ld, const int32_t* positions,
               float base);

}  // namespace embody::kernels
