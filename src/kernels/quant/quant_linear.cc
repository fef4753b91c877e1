// MakeQuantizedLinear / MakeQuantizedConv: argument checks and the choice of kernel family.
#include "kernels/quant/quant_linear.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/quant/quant_internal.h"

namespace embody::kernels {

namespace {

Status CheckOptions(const QuantOptions& q, const char* what) {
  if (q.static_activation_scale && !(std::isfinite(q.activation_scale) && q.activation_scale > 0))
    return InvalidArgument(std::string(what) + ": the static activation scale must be positive and finite, got " +
                           std::to_string(q.activation_scale));
  return Status::Ok();
}

bool IsInteger(WeightFormat f) { return f == WeightFormat::kInt8 || f == WeightFormat::kInt4; }

std::unique_ptr<LinearOp> MakeIntLinear(KernelIsa isa, const LinearParams& p, const PackedWeights& w,
                                        const float* bias, const QuantOptions& q) {
  switch (isa) {
    case KernelIsa::kAvx512Vnni: return quant::MakeAvx512VnniLinear(p, w, bias, q);
    case KernelIsa::kAvx2: return quant::MakeAvx2Linear(p, w, bias, q);
    case KernelIsa::kNeonDot: return quant::MakeNeonDotLinear(p, w, bias, q);
    case KernelIsa::kRef:
    case KernelIsa::kOneDnn: break;
  }
  return quant::MakeRefLinear(p, w, bias, q);
}

// The half-precision kernel family for f16 weights on this CPU ("" when none): NEON with
// FEAT_FP16, x86 with AVX512-FP16, unless EMBODY_KERNEL_ISA=ref asks for the scalar reference.
std::string HalfFamily() {
  auto isa = SelectedIsa();
  if (!isa.ok() || *isa == KernelIsa::kRef) return "";
  if (HasCpuFeature(CpuFeature::kNeonFp16)) return "neon-fp16 (4x16 fmla .8h, f32 sums every 16 k)";
  if (HasCpuFeature(CpuFeature::kAvx512Fp16)) return "avx512fp16 (8x32 vfmadd231ph, f32 sums every 16 k)";
  return "";
}

std::unique_ptr<LinearOp> MakeHalfLinear(const LinearParams& p, const PackedWeights& w, const float* bias) {
  if (HasCpuFeature(CpuFeature::kNeonFp16)) return quant::MakeNeonFp16Linear(p, w, bias);
  if (HasCpuFeature(CpuFeature::kAvx512Fp16)) return quant::MakeAvx512Fp16Linear(p, w, bias);
  return nullptr;
}

}  // namespace

namespace quant {

void FinishRows(const LinearParams& p, float* acc, int64_t rows, int64_t ld_acc, const float* bias,
                const float* residual, float* y) {
  const int64_t n = p.n;
#pragma omp parallel for schedule(static) if (rows * n > 32768)
  for (int64_t i = 0; i < rows; ++i) {
    float* row = acc + i * ld_acc;
    for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
    ApplyActivationInPlace(p.act, row, n);
    float* yi = y + i * p.ldy;
    if (p.residual) {
      const float* ri = residual + i * p.ldr;  // may alias yi
      for (int64_t j = 0; j < n; ++j) yi[j] = row[j] + ri[j];
    } else {
      std::memcpy(yi, row, static_cast<size_t>(n) * sizeof(float));
    }
  }
}

// For tests and benchmarks: the linear of one named family (which must be available).
Result<std::unique_ptr<LinearOp>> MakeQuantizedLinearWithIsa(KernelIsa isa, const LinearParams& p,
                                                             const PackedWeights& w, const float* bias,
                                                             const QuantOptions& q) {
  if (!IsaAvailable(isa))
    return FailedPrecondition(std::string("kernel family ") + KernelIsaName(isa) + " cannot run on this CPU/build");
  if (!IsInteger(w.format)) return MakeQuantizedLinear(Backend::kOneDnn, p, w, bias, q);
  if (isa == KernelIsa::kOneDnn) {
    if (w.format == WeightFormat::kInt8) return MakeOneDnnInt8Linear(p, w, bias, q);
    isa = KernelIsa::kAvx512Vnni;  // oneDNN has no int4 matmul with per-block scales
  }
  if (auto op = MakeIntLinear(isa, p, w, bias, q)) return op;
  return Internal(std::string("kernel family ") + KernelIsaName(isa) + " is not built into this binary");
}

}  // namespace quant

Result<std::unique_ptr<LinearOp>> MakeQuantizedLinear(Backend b, const LinearParams& p, const PackedWeights& w,
                                                      const float* bias, const QuantOptions& q) {
  EMBODY_TRY(w.Validate());
  EMBODY_TRY(CheckOptions(q, "quantized linear"));
  if (p.m <= 0) return InvalidArgument("quantized linear: m must be positive");
  if (p.n != w.n || p.k != w.k)
    return InvalidArgument("quantized linear: layer is " + std::to_string(p.n) + "x" + std::to_string(p.k) +
                           " (n x k) but the " + WeightFormatName(w.format) + " weights are " + std::to_string(w.n) +
                           "x" + std::to_string(w.k));
  if (b == Backend::kReference) return quant::MakeRefLinear(p, w, bias, q);
  if (w.format == WeightFormat::kF16 && b == Backend::kOneDnn && !HalfFamily().empty()) {
    if (auto op = MakeHalfLinear(p, w, bias)) return op;
  }
  if (w.format == WeightFormat::kBF16 && b == Backend::kOneDnn) {
    // bf16 weights run bf16 x bf16 where the CPU multiplies bf16 natively; elsewhere they are
    // widened below (as f16 is on CPUs without half-precision arithmetic).
    auto op = quant::MakeOneDnnBf16Linear(p, w, bias);
    if (op.ok() || op.status().code() != StatusCode::kUnimplemented) return op;
  }
  if (!IsInteger(w.format)) {
    // f32 / f16 (and bf16 without native bf16 matmuls): widened to f32 once here and run on the
    // f32 GEMM (FORMATS.md explains why).
    std::vector<float> f(static_cast<size_t>(w.n * w.k));
    DequantizeWeights(w, f.data());
    auto op = MakeDynamicLinear(b, p, f.data(), bias);
    // Builds without oneDNN and without AVX-512: the f32 reference.
    if (!op.ok() && op.status().code() == StatusCode::kUnimplemented) return quant::MakeRefLinear(p, w, bias, q);
    return op;
  }
  EMBODY_ASSIGN_OR_RETURN(KernelIsa isa, SelectedIsa());
  return quant::MakeQuantizedLinearWithIsa(isa, p, w, bias, q);
}

Result<std::unique_ptr<ConvOp>> MakeQuantizedConv(Backend b, const ConvParams& p, const PackedWeights& w,
                                                  const float* bias, const QuantOptions& q) {
  EMBODY_TRY(w.Validate());
  EMBODY_TRY(CheckOptions(q, "quantized conv"));
  if (w.format == WeightFormat::kInt4)
    return InvalidArgument("quantized conv: int4 is a format for linear layers (blocks of 32 along k); use int8 "
                           "for convolutions");
  for (int64_t d : {p.in_c, p.out_c, p.in_h, p.in_w, p.kernel, p.stride})
    if (d <= 0) return InvalidArgument("quantized conv: every dimension must be positive");
  if (p.out_h() <= 0 || p.out_w() <= 0) return InvalidArgument("quantized conv: input too small for the kernel");
  if (w.n != p.out_c || w.k != p.in_c * p.kernel * p.kernel)
    return InvalidArgument("quantized conv: weights are [" + std::to_string(w.n) + ", " + std::to_string(w.k) +
                           "], expected [out_c, in_c * k * k] = [" + std::to_string(p.out_c) + ", " +
                           std::to_string(p.in_c * p.kernel * p.kernel) + "]");
  if (w.format != WeightFormat::kInt8) {
    // f32 / f16 / bf16 convolutions: widened to f32 here and run as the backend's f32
    // convolution (only the file shrinks; an AMX bf16 convolution measured about twice the int8
    // pipeline's time, README.md, so int8 is the fast backbone format).
    std::vector<float> f(static_cast<size_t>(w.n * w.k));
    DequantizeWeights(w, f.data());
    return MakeConv(b, p, f.data(), bias);
  }
  std::vector<float> zero;
  if (!bias) {
    zero.assign(static_cast<size_t>(p.out_c), 0.0f);
    bias = zero.data();
  }
  if (b == Backend::kReference) return quant::MakeRefConv(p, w, bias, q);
  auto op = quant::MakeOneDnnInt8Conv(p, w, bias, q);
  // Builds without oneDNN: the reference (NCHW, the layout every backend's convs then share).
  if (!op.ok() && op.status().code() == StatusCode::kUnimplemented) return quant::MakeRefConv(p, w, bias, q);
  return op;
}

// Whether bf16 weights run on oneDNN's native bf16 matmul here (MakeOneDnnBf16Linear succeeds).
static bool NativeBf16Matmul() {
  static const bool native = [] {
    const std::vector<float> w(32 * 32, 0.5f);
    auto packed = QuantizeWeights(WeightFormat::kBF16, 32, 32, w.data());
    return packed.ok() && quant::MakeOneDnnBf16Linear(LinearParams{32, 32, 32}, *packed, nullptr).ok();
  }();
  return native;
}

std::string QuantKernelName(WeightFormat f) {
  if (f == WeightFormat::kBF16 && NativeBf16Matmul()) return "onednn bf16 matmul (amx/avx512-bf16)";
  if (f == WeightFormat::kF16 && !HalfFamily().empty()) return HalfFamily();
  if (!IsInteger(f)) return "f32 gemm (" + std::string(LinearImplementation(Backend::kOneDnn)) + ")";
  auto isa = SelectedIsa();
  if (!isa.ok()) return "error: " + isa.status().message();
  KernelIsa i = *isa;
  if (i == KernelIsa::kOneDnn && f == WeightFormat::kInt4) i = KernelIsa::kAvx512Vnni;
  switch (i) {
    case KernelIsa::kRef: return "ref (scalar)";
    case KernelIsa::kAvx2: return "avx2 (6x16 vpmaddwd)";
    case KernelIsa::kAvx512Vnni: return "avx512vnni (14x32 vpdpbusd)";
    case KernelIsa::kOneDnn: return "onednn s8 matmul (amx/vnni) + embody epilogue";
    case KernelIsa::kNeonDot: return "neon-dot (8x12 sdot)";
  }
  return "?";
}

std::string QuantKernelSummary() {
  std::string s = "cpu:";
  for (const auto& f : DetectedCpuFeatures()) s += " " + f;
  s += " | kernels:";
  for (WeightFormat f :
       {WeightFormat::kInt8, WeightFormat::kInt4, WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kF32})
    s += std::string(" ") + WeightFormatName(f) + "=" + QuantKernelName(f) + ";";
  return s;
}

}  // namespace embody::kernels
