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

// The bf16 attention's softmax numerator: out[j] = bf16(exp(scale * (row[j] - max(row)))) for
// j < n (round to nearest even), returning the sum of the unrounded exponentials. The caller
// divides each context row by that sum after the probabilities x V matmul (d values per row
// instead of n), so the probabilities are written once, in bf16, never as f32. Picks the
// AVX-512 kernel (arch/avx512/bf16_avx512.h) where the CPU has it. n >= 1, scale > 0,
// finite inputs.
float ScaledExpToBf16(const float* row, int64_t n, float scale, uint16_t* out);
// The portable loop the AVX-512 kernel is tested against (and the fallback).
float ScaledExpToBf16Reference(const float* row, int64_t n, float scale, uint16_t* out);

// out[j] = bf16(x[j]) (round to nearest even; finite inputs), the bf16 linear's activation rows
// where the CPU lacks AVX-512 (arch/avx512/bf16_avx512.h is the fast one).
void ConvertToBf16Reference(const float* x, int64_t n, uint16_t* out);

// LeRobot SmolVLA's apply_rope (HF rotate-half layout, float32): for each row r with position
// positions[r] and each head h, x[:d/2], x[d/2:] are rotated by theta_i = pos / base^(2i/d).
void ApplyRope(float* x, int64_t rows, int64_t heads, int64_t head_dim, int64_t ld, const int32_t* positions,
               float base);

}  // namespace embody::kernels
