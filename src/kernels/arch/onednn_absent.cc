// Builds without oneDNN (EMBODY_KERNELS_ONLY, e.g. the AArch64 cross build of the kernels and
// their tests): the oneDNN backend's entry points report that they are missing, and the quantized
// operators that would use oneDNN fall back (linear: embody's own kernels; convolution: the
// scalar reference, see quant/quant_linear.cc).
#include "kernels/onednn/ops_onednn.h"
#include "kernels/quant/quant_internal.h"

namespace embody::kernels {

namespace {
Status Missing(const char* what) {
  return Unimplemented(std::string(what) + ": this build has no oneDNN (EMBODY_KERNELS_ONLY); use the reference backend");
}
}  // namespace

namespace onednn {
Result<std::unique_ptr<LinearOp>> MakeLinear(const LinearParams&, const float*, const float*) {
  return Missing("linear");
}
Result<std::unique_ptr<LinearOp>> MakeDynamicLinear(const LinearParams&, const float*, const float*) {
  return Missing("linear");
}
Result<std::unique_ptr<AttentionOp>> MakeAttention(const AttentionParams&) { return Missing("attention"); }
Result<std::unique_ptr<GqaAttentionOp>> MakeGqaAttention(const GqaParams&) { return Missing("gqa attention"); }
Result<std::unique_ptr<LayerNormOp>> MakeLayerNorm(int64_t, int64_t, float, const float*, const float*) {
  return Missing("layer norm");
}
Result<std::unique_ptr<ConvOp>> MakeConv(const ConvParams&, const float*, const float*) { return Missing("conv"); }
Result<std::unique_ptr<PoolOp>> MakeMaxPool(const PoolParams&) { return Missing("max pool"); }
Result<std::unique_ptr<ToTokensOp>> MakeToTokens(int64_t, int64_t, int64_t) { return Missing("to tokens"); }
std::string LastConvImplementation() { return "none (no oneDNN)"; }
}  // namespace onednn

namespace quant {
Result<std::unique_ptr<LinearOp>> MakeOneDnnInt8Linear(const LinearParams&, const PackedWeights&, const float*,
                                                       const QuantOptions&) {
  return Missing("int8 matmul");
}
Result<std::unique_ptr<LinearOp>> MakeOneDnnBf16Linear(const LinearParams&, const PackedWeights&, const float*) {
  return Missing("bf16 matmul");
}
Result<std::unique_ptr<ConvOp>> MakeOneDnnInt8Conv(const ConvParams&, const PackedWeights&, const float*,
                                                   const QuantOptions&) {
  return Missing("int8 convolution");
}
}  // namespace quant

}  // namespace embody::kernels
