// Prepared operators: created once at load for fixed shapes (weights packed, primitives built,
// scratch sized), then run any number of times without allocating.
//
// Every operator has two implementations behind the same interface:
//   Backend::kReference  plain scalar loops (kernels/ref/): the oracle for tests, and a
//                        reproducible mode for parity debugging;
//   Backend::kOneDnn     oneDNN (Debian's libdnnl) JIT kernels for the host CPU (kernels/onednn/).
// The model code never picks an implementation by hand; it asks for a backend.
//
// Layout contracts:
//   * Linear/attention/norm tensors are row-major [rows, features] float32 with the leading
//     dimensions given at creation.
//   * Convolution activations are in the backend's own layout (NCHW for the reference, nChw16c
//     blocked for oneDNN); only ConvLayout converts to and from plain layouts. Buffer sizes come
//     from the op (src_bytes/dst_bytes).
// Thread safety: Run() may not be called concurrently on the same op; distinct ops may run in
// parallel. Threads come from the OpenMP default of the calling thread (ThreadPool::Bind...).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace embody::kernels {

enum class Backend { kReference, kOneDnn };
const char* BackendName(Backend b);
// Which GEMM the backend's linear layers use on this CPU (for benchmark logs).
const char* LinearImplementation(Backend b);
Result<Backend> ParseBackend(const std::string& name);

enum class Activation {
  kNone,
  kRelu,
  kGelu,      // erf form, torch's default GELU
  kGeluTanh,  // tanh approximation (SigLIP's gelu_pytorch_tanh)
  kSilu,      // x * sigmoid(x)
};

// y[M, N] = act(x[M, K] · W[N, K]^T + bias[N]) (+ residual[M, N], added after act).
struct LinearParams {
  int64_t m = 0, k = 0, n = 0;
  int64_t ldx = 0, ldy = 0, ldr = 0;  // leading dims; 0 means dense (k, n, n)
  Activation act = Activation::kNone;
  bool residual = false;
};
class LinearOp {
 public:
  virtual ~LinearOp() = default;
  // residual must be non-null iff params.residual. y may alias residual.
  virtual void Run(const float* x, float* y, const float* residual = nullptr) = 0;
  // Same on the first `rows` rows only. REQUIRES: rows <= params.m, and the op was made with
  // MakeDynamicLinear (fixed-shape ops only take rows == params.m).
  virtual void RunRows(const float* x, int64_t rows, float* y, const float* residual = nullptr) = 0;
};
// weight [n, k] row-major (PyTorch Linear layout), bias [n] or nullptr. Copied; need not outlive.
Result<std::unique_ptr<LinearOp>> MakeLinear(Backend b, const LinearParams& p, const float* weight,
                                             const float* bias);
// A linear whose row count is chosen per call (token sequences whose length depends on the
// prompt); params.m is the maximum. Weights stay in PyTorch layout (no per-shape packing).
Result<std::unique_ptr<LinearOp>> MakeDynamicLinear(Backend b, const LinearParams& p, const float* weight,
                                                    const float* bias);

// Multi-head scaled dot-product attention, no mask:
//   out[:, h*d:(h+1)*d] = softmax(scale * Q_h K_h^T) V_h for each head h.
// q [sq, heads*d] (leading dim ldq), k and v [sk, heads*d] (ldk, ldv), out [sq, heads*d] (ldo).
struct AttentionParams {
  int64_t heads = 0, head_dim = 0, sq = 0, sk = 0;
  int64_t ldq = 0, ldk = 0, ldv = 0, ldo = 0;
  float scale = 1.0f;
  // Reduced precision: Q, K, V and the probabilities rounded to bfloat16, products accumulated
  // in f32 (AMX / AVX512-BF16 matmuls). For blocks a precision plan already quantizes; the
  // oneDNN backend honours it where the CPU has bf16 arithmetic, everything else stays f32.
  bool bf16 = false;
};
class AttentionOp {
 public:
  virtual ~AttentionOp() = default;
  virtual void Run(const float* q, const float* k, const float* v, float* out) = 0;
};
Result<std::unique_ptr<AttentionOp>> MakeAttention(Backend b, const AttentionParams& p);

// Multi-head attention with grouped keys/values (GQA) and per-query key limits, for sequences
// whose lengths are chosen per call:
//   out[i, h*d:(h+1)*d] = softmax_j<kv_len[i] (scale * q_h[i] . k_g[j]) v_g, g = h / (heads / kv_heads)
// kv_len == nullptr means every query sees all sk keys. Masked keys get probability 0 exactly as
// a finfo.min score would give after softmax.
struct GqaParams {
  int64_t heads = 0, kv_heads = 0, head_dim = 0, max_sq = 0, max_sk = 0;
  float scale = 1.0f;
};
struct GqaShape {
  int64_t sq = 0, sk = 0;
  int64_t ldq = 0, ldk = 0, ldv = 0, ldo = 0;
  const int32_t* kv_len = nullptr;  // [sq] or nullptr
};
class GqaAttentionOp {
 public:
  virtual ~GqaAttentionOp() = default;
  virtual void Run(const float* q, const float* k, const float* v, float* out, const GqaShape& s) = 0;
};
Result<std::unique_ptr<GqaAttentionOp>> MakeGqaAttention(Backend b, const GqaParams& p);

// y[M, N] = (x - mean) / sqrt(var + eps) * gamma + beta per row. y may alias x.
class LayerNormOp {
 public:
  virtual ~LayerNormOp() = default;
  virtual void Run(const float* x, float* y) = 0;
};
Result<std::unique_ptr<LayerNormOp>> MakeLayerNorm(Backend b, int64_t m, int64_t n, float eps,
                                                   const float* gamma, const float* beta);

// 2-D convolution (groups 1, no dilation) with bias, optional ReLU, optional residual added
// before the ReLU (the ResNet block epilogue): dst = act(conv(src) + bias [+ residual]).
struct ConvParams {
  int64_t in_c = 0, out_c = 0, in_h = 0, in_w = 0;
  int64_t kernel = 1, stride = 1, pad = 0;
  bool relu = false;
  bool residual = false;
  // The source arrives in plain NCHW (the first layer) instead of the backend's layout.
  bool plain_src = false;
  // Fast backends may use Winograd F(4x4, 3x3) for 3x3 stride-1 layers: about 2x fewer
  // multiplies, slightly different rounding (measured against LeRobot in the parity tests).
  bool allow_winograd = false;
  int64_t out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
};
class ConvOp {
 public:
  virtual ~ConvOp() = default;
  virtual size_t src_bytes() const = 0;
  virtual size_t dst_bytes() const = 0;
  // residual: in this op's dst layout, non-null iff params.residual; may equal dst (accumulate
  // in place, the cheapest form).
  virtual void Run(const void* src, void* dst, const void* residual = nullptr) = 0;
};
// weight [out_c, in_c, k, k], bias [out_c].
Result<std::unique_ptr<ConvOp>> MakeConv(Backend b, const ConvParams& p, const float* weight,
                                         const float* bias);

// 2-D max pooling (PyTorch semantics: padding never wins), in the backend's layout.
struct PoolParams {
  int64_t channels = 0, in_h = 0, in_w = 0, kernel = 3, stride = 2, pad = 1;
  int64_t out_h() const { return (in_h + 2 * pad - kernel) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * pad - kernel) / stride + 1; }
};
class PoolOp {
 public:
  virtual ~PoolOp() = default;
  virtual size_t dst_bytes() const = 0;
  virtual void Run(const void* src, void* dst) = 0;
};
Result<std::unique_ptr<PoolOp>> MakeMaxPool(Backend b, const PoolParams& p);

// Converts a [channels, h, w] activation in the backend layout to plain [h*w, channels]
// (token-major), the layout the transformer consumes.
class ToTokensOp {
 public:
  virtual ~ToTokensOp() = default;
  virtual void Run(const void* src, float* tokens) = 0;
};
Result<std::unique_ptr<ToTokensOp>> MakeToTokens(Backend b, int64_t channels, int64_t h, int64_t w);

}  // namespace embody::kernels
