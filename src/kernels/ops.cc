#include "kernels/ops.h"

#include <vector>

#include "kernels/fast_linear.h"
#include "kernels/onednn/ops_onednn.h"
#include "kernels/ref/ops_ref.h"

namespace embody::kernels {

const char* BackendName(Backend b) { return b == Backend::kReference ? "reference" : "onednn"; }

const char* LinearImplementation(Backend b) {
  if (b == Backend::kReference) return "reference";
  static const bool avx512 = MakeAvx512Linear(LinearParams{1, 1, 1}, std::vector<float>{0.f}.data(), nullptr) != nullptr;
  return avx512 ? "embody avx512 gemm" : "onednn";
}

Result<Backend> ParseBackend(const std::string& name) {
  if (name == "reference" || name == "ref") return Backend::kReference;
  if (name == "onednn" || name == "fast") return Backend::kOneDnn;
  return InvalidArgument("unknown kernel backend '" + name + "' (expected reference or onednn)");
}

namespace {
Status CheckPositive(const char* op, std::initializer_list<int64_t> dims) {
  for (int64_t d : dims)
    if (d <= 0) return InvalidArgument(std::string(op) + ": every dimension must be positive");
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<LinearOp>> MakeLinear(Backend b, const LinearParams& p, const float* w, const float* bias) {
  EMBODY_TRY(CheckPositive("linear", {p.m, p.k, p.n}));
  if (b == Backend::kReference) return ref::MakeLinear(p, w, bias);
  if (auto fast = MakeAvx512Linear(p, w, bias)) return fast;
  return onednn::MakeLinear(p, w, bias);
}

Result<std::unique_ptr<LinearOp>> MakeDynamicLinear(Backend b, const LinearParams& p, const float* w,
                                                    const float* bias) {
  EMBODY_TRY(CheckPositive("linear", {p.m, p.k, p.n}));
  if (p.residual && p.act != Activation::kNone)
    return InvalidArgument("dynamic linear: a residual cannot follow an activation");
  if (b == Backend::kReference) return ref::MakeLinear(p, w, bias);
  if (auto fast = MakeAvx512Linear(p, w, bias)) return fast;
  return onednn::MakeDynamicLinear(p, w, bias);
}

Result<std::unique_ptr<GqaAttentionOp>> MakeGqaAttention(Backend b, const GqaParams& p) {
  EMBODY_TRY(CheckPositive("gqa attention", {p.heads, p.kv_heads, p.head_dim, p.max_sq, p.max_sk}));
  if (p.heads % p.kv_heads != 0) return InvalidArgument("gqa attention: heads must be a multiple of kv_heads");
  if (b == Backend::kReference) return ref::MakeGqaAttention(p);
  return onednn::MakeGqaAttention(p);
}

Result<std::unique_ptr<AttentionOp>> MakeAttention(Backend b, const AttentionParams& p) {
  EMBODY_TRY(CheckPositive("attention", {p.heads, p.head_dim, p.sq, p.sk}));
  if (b == Backend::kReference) return ref::MakeAttention(p);
  return onednn::MakeAttention(p);
}

Result<std::unique_ptr<LayerNormOp>> MakeLayerNorm(Backend b, int64_t m, int64_t n, float eps, const float* g,
                                                   const float* beta) {
  EMBODY_TRY(CheckPositive("layer norm", {m, n}));
  if (b == Backend::kReference) return ref::MakeLayerNorm(m, n, eps, g, beta);
  return onednn::MakeLayerNorm(m, n, eps, g, beta);
}

Result<std::unique_ptr<ConvOp>> MakeConv(Backend b, const ConvParams& p, const float* w, const float* bias) {
  EMBODY_TRY(CheckPositive("conv", {p.in_c, p.out_c, p.in_h, p.in_w, p.kernel, p.stride}));
  if (p.out_h() <= 0 || p.out_w() <= 0)
    return InvalidArgument("conv: input " + std::to_string(p.in_h) + "x" + std::to_string(p.in_w) +
                           " is too small for kernel " + std::to_string(p.kernel));
  if (b == Backend::kReference) return ref::MakeConv(p, w, bias);
  return onednn::MakeConv(p, w, bias);
}

Result<std::unique_ptr<PoolOp>> MakeMaxPool(Backend b, const PoolParams& p) {
  EMBODY_TRY(CheckPositive("max pool", {p.channels, p.in_h, p.in_w, p.out_h(), p.out_w()}));
  if (b == Backend::kReference) return ref::MakeMaxPool(p);
  return onednn::MakeMaxPool(p);
}

Result<std::unique_ptr<ToTokensOp>> MakeToTokens(Backend b, int64_t c, int64_t h, int64_t w) {
  EMBODY_TRY(CheckPositive("to tokens", {c, h, w}));
  if (b == Backend::kReference) return ref::MakeToTokens(c, h, w);
  return onednn::MakeToTokens(c, h, w);
}

}  // namespace embody::kernels
