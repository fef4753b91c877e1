#include "kernels/quant/cpu_features.h"

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace embody::kernels {

namespace {

constexpr CpuFeature kAllFeatures[] = {
    CpuFeature::kAvx2,       CpuFeature::kFma,      CpuFeature::kF16c,     CpuFeature::kAvx512F,
    CpuFeature::kAvx512Bw,   CpuFeature::kAvx512Vl, CpuFeature::kAvx512Vnni, CpuFeature::kAvxVnni,
    CpuFeature::kAvx512Bf16, CpuFeature::kAvx512Fp16, CpuFeature::kAmxInt8,  CpuFeature::kNeon,     CpuFeature::kNeonDotProd,
    CpuFeature::kNeonFp16,   CpuFeature::kNeonI8mm,
};

struct Features {
  bool has[sizeof(kAllFeatures) / sizeof(kAllFeatures[0])] = {};
  void Set(CpuFeature f, bool v) { has[static_cast<int>(f)] = v; }
};

#if defined(__x86_64__)
// CPUID says what the core implements; XCR0 says whether the OS saves the registers (a kernel or
// hypervisor may hide AVX-512 or AMX state), so both are checked.
Features DetectX86() {
  Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool fma = c & (1u << 12), f16c = c & (1u << 29);
  uint64_t xcr0 = 0;
  if (osxsave) {
    uint32_t lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<uint64_t>(hi) << 32) | lo;
  }
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_count(7, 0, &a, &b7, &c7, &d7)) {
    unsigned x = 0, y = 0, z = 0;
    if (__get_cpuid_count(7, 1, &a71, &x, &y, &z) == 0) a71 = 0;
  }
  f.Set(CpuFeature::kAvx2, os_avx && (b7 & (1u << 5)));
  f.Set(CpuFeature::kFma, os_avx && fma);
  f.Set(CpuFeature::kF16c, os_avx && f16c);
  f.Set(CpuFeature::kAvxVnni, os_avx && (a71 & (1u << 4)));
  f.Set(CpuFeature::kAvx512F, os_avx512 && (b7 & (1u << 16)));
  f.Set(CpuFeature::kAvx512Bw, os_avx512 && (b7 & (1u << 30)));
  f.Set(CpuFeature::kAvx512Vl, os_avx512 && (b7 & (1u << 31)));
  f.Set(CpuFeature::kAvx512Vnni, os_avx512 && (c7 & (1u << 11)));
  f.Set(CpuFeature::kAvx512Bf16, os_avx512 && (a71 & (1u << 5)));
  f.Set(CpuFeature::kAvx512Fp16, os_avx512 && (d7 & (1u << 23)));
  f.Set(CpuFeature::kAmxInt8, os_amx && (d7 & (1u << 25)));
  return f;
}
#endif

#if defined(__aarch64__)
Features DetectArm() {
  Features f;
  f.Set(CpuFeature::kNeon, true);  // Advanced SIMD is part of the AArch64 base
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  f.Set(CpuFeature::kNeonFp16, hw & (1ul << 10));    // HWCAP_ASIMDHP
  f.Set(CpuFeature::kNeonDotProd, hw & (1ul << 20));  // HWCAP_ASIMDDP
  f.Set(CpuFeature::kNeonI8mm, hw2 & (1ul << 13));    // HWCAP2_I8MM
#endif
  return f;
}
#endif

const Features& Detected() {
  static const Features f = [] {
#if defined(__x86_64__)
    return DetectX86();
#elif defined(__aarch64__)
    return DetectArm();
#else
    return Features{};
#endif
  }();
  return f;
}

}  // namespace

const char* CpuFeatureName(CpuFeature f) {
  switch (f) {
    case CpuFeature::kAvx2: return "avx2";
    case CpuFeature::kFma: return "fma";
    case CpuFeature::kF16c: return "f16c";
    case CpuFeature::kAvx512F: return "avx512f";
    case CpuFeature::kAvx512Bw: return "avx512bw";
    case CpuFeature::kAvx512Vl: return "avx512vl";
    case CpuFeature::kAvx512Vnni: return "avx512_vnni";
    case CpuFeature::kAvxVnni: return "avx_vnni";
    case CpuFeature::kAvx512Bf16: return "avx512_bf16";
    case CpuFeature::kAvx512Fp16: return "avx512_fp16";
    case CpuFeature::kAmxInt8: return "amx_int8";
    case CpuFeature::kNeon: return "neon";
    case CpuFeature::kNeonDotProd: return "dotprod";
    case CpuFeature::kNeonFp16: return "fp16";
    case CpuFeature::kNeonI8mm: return "i8mm";
  }
  return "?";
}

bool HasCpuFeature(CpuFeature f) { return Detected().has[static_cast<int>(f)]; }

std::vector<std::string> DetectedCpuFeatures() {
  std::vector<std::string> out;
  for (CpuFeature f : kAllFeatures)
    if (HasCpuFeature(f)) out.emplace_back(CpuFeatureName(f));
  return out;
}

const char* KernelIsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kRef: return "ref";
    case KernelIsa::kAvx2: return "avx2";
    case KernelIsa::kAvx512Vnni: return "avx512vnni";
    case KernelIsa::kOneDnn: return "onednn";
    case KernelIsa::kNeonDot: return "neon-dot";
  }
  return "?";
}

Result<KernelIsa> ParseKernelIsa(const std::string& name) {
  for (KernelIsa isa : {KernelIsa::kRef, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kOneDnn,
                        KernelIsa::kNeonDot})
    if (name == KernelIsaName(isa)) return isa;
  if (name == "reference") return KernelIsa::kRef;
  if (name == "amx") return KernelIsa::kOneDnn;  // oneDNN is how embody reaches AMX
  if (name == "neon" || name == "neondot") return KernelIsa::kNeonDot;
  return InvalidArgument("unknown kernel ISA '" + name +
                         "' (expected ref, avx2, avx512vnni, onednn (alias amx) or neon-dot)");
}

bool IsaAvailable(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kRef: return true;
    case KernelIsa::kAvx2:
#if defined(__x86_64__)
      return HasCpuFeature(CpuFeature::kAvx2) && HasCpuFeature(CpuFeature::kFma);
#else
      return false;
#endif
    case KernelIsa::kAvx512Vnni:
#if defined(__x86_64__)
      return HasCpuFeature(CpuFeature::kAvx512F) && HasCpuFeature(CpuFeature::kAvx512Bw) &&
             HasCpuFeature(CpuFeature::kAvx512Vl) && HasCpuFeature(CpuFeature::kAvx512Vnni) &&
             HasCpuFeature(CpuFeature::kFma);
#else
      return false;
#endif
    case KernelIsa::kOneDnn:
#if defined(__x86_64__) && !defined(EMBODY_KERNELS_NO_ONEDNN)
      // oneDNN 2.6 has s8 x s8 matmul kernels from AVX-512 VNNI up (AMX on Sapphire Rapids).
      return HasCpuFeature(CpuFeature::kAvx512Vnni) || HasCpuFeature(CpuFeature::kAmxInt8);
#else
      return false;
#endif
    case KernelIsa::kNeonDot:
#if defined(__aarch64__)
      return HasCpuFeature(CpuFeature::kNeonDotProd);
#else
      return false;
#endif
  }
  return false;
}

std::vector<KernelIsa> AvailableIsas() {
  std::vector<KernelIsa> out;
  for (KernelIsa isa : {KernelIsa::kRef, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kOneDnn,
                        KernelIsa::kNeonDot})
    if (IsaAvailable(isa)) out.push_back(isa);
  return out;
}

Result<KernelIsa> SelectedIsa() {
  if (const char* env = std::getenv("EMBODY_KERNEL_ISA"); env && *env) {
    EMBODY_ASSIGN_OR_RETURN(KernelIsa isa, ParseKernelIsa(env));
    if (!IsaAvailable(isa))
      return FailedPrecondition(std::string("EMBODY_KERNEL_ISA=") + env +
                                ": this CPU or build cannot run it (available: " + [] {
                                  std::string s;
                                  for (KernelIsa i : AvailableIsas()) s += std::string(s.empty() ? "" : ", ") + KernelIsaName(i);
                                  return s;
                                }() + ")");
    return isa;
  }
  // With AMX, oneDNN's s8 matmul measured 3.5-10 TOPS on 2 Sapphire Rapids cores, several times
  // the VNNI ceiling (~1.3 TOPS); without AMX embody's own kernels (README.md, measurements).
  if (HasCpuFeature(CpuFeature::kAmxInt8) && IsaAvailable(KernelIsa::kOneDnn)) return KernelIsa::kOneDnn;
  for (KernelIsa isa : {KernelIsa::kAvx512Vnni, KernelIsa::kNeonDot, KernelIsa::kAvx2})
    if (IsaAvailable(isa)) return isa;
  return KernelIsa::kRef;
}

}  // namespace embody::kernels
