// The CPU features the quantized kernels use, detected once at first use, and the kernel family
// (ISA) chosen from them. EMBODY_KERNEL_ISA=<name> forces a family (tests, debugging); naming one
// the CPU cannot run is an error at operator creation, not a crash.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace embody::kernels {

enum class CpuFeature {
  // x86-64
  kAvx2,
  kFma,
  kF16c,
  kAvx512F,
  kAvx512Bw,
  kAvx512Vl,
  kAvx512Vnni,
  kAvxVnni,
  kAvx512Bf16,
  kAvx512Fp16,  // half-precision arithmetic (Sapphire Rapids)
  kAmxInt8,
  // AArch64
  kNeon,
  kNeonDotProd,  // sdot/udot (ARMv8.2 optional, v8.4 mandatory)
  kNeonFp16,     // half-precision arithmetic (ARMv8.2 FEAT_FP16)
  kNeonI8mm,     // smmla (ARMv8.6)
};
const char* CpuFeatureName(CpuFeature f);
bool HasCpuFeature(CpuFeature f);
// The detected features, e.g. {"avx2", "fma", "avx512_vnni", ...}.
std::vector<std::string> DetectedCpuFeatures();

// Kernel families, from slowest to fastest on their CPUs.
enum class KernelIsa {
  kRef,         // portable scalar reference (every CPU)
  kAvx2,        // x86 AVX2 + FMA: int16 pairs with vpmaddwd
  kAvx512Vnni,  // x86 AVX-512 VNNI: u8 x s8 vpdpbusd
  kOneDnn,      // oneDNN 2.6's s8 x s8 matmul (AMX or VNNI inside), x86 builds with oneDNN only
  kNeonDot,     // AArch64 NEON with sdot (ARMv8.2+dotprod: Cortex-A55, A76)
};
const char* KernelIsaName(KernelIsa isa);  // "ref", "avx2", "avx512vnni", "onednn", "neon-dot"
Result<KernelIsa> ParseKernelIsa(const std::string& name);
// Whether this CPU (and build) can run the family.
bool IsaAvailable(KernelIsa isa);
// Families this CPU and build can run, reference first.
std::vector<KernelIsa> AvailableIsas();
// The family for int8/int4 linear layers: EMBODY_KERNEL_ISA if set (an error when unknown or not
// runnable here), else the fastest available one.
Result<KernelIsa> SelectedIsa();

// One line for logs: detected features and the kernel each weight format uses, e.g.
// "cpu: avx2 fma ... | int8: avx512vnni, int4: avx512vnni, f16: f32 gemm (widened at load), ...".
std::string QuantKernelSummary();

}  // namespace embody::kernels
