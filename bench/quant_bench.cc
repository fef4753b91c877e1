// Quantized kernels (issue 7) on the ACT / SmolVLA shapes, against embody's f32 linear and the
// machine's measured peak. Every row reports GOP/s (2 * m * n * k per run; convolutions
// 2 * out_c * in_c * k^2 * oh * ow); "peak" rows are the large-GEMM ceilings the others are read
// against. Threads: the OpenMP default (set OMP_NUM_THREADS).
//
//   build-*/bench/embody_quant_bench --benchmark_min_time=0.2
//   EMBODY_KERNEL_ISA has no effect here: each row names its kernel family.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "kernels/quant/int8_pipeline.h"
#include "kernels/quant/quant_internal.h"
#include "kernels/quant/quant_linear.h"

namespace embody::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

struct Shape {
  const char* name;
  int64_t m, k, n;
};

// kind: "f32" (MakeLinear, the model's f32 path) or an ISA name with a format.
void RunLinear(benchmark::State& state, Shape s, const std::string& kind, KernelIsa isa, WeightFormat f) {
  const auto w = Random(static_cast<size_t>(s.n * s.k), 1, -0.05f, 0.05f);
  const auto x = Random(static_cast<size_t>(s.m * s.k), 2);
  const auto b = Random(static_cast<size_t>(s.n), 3);
  std::vector<float> y(static_cast<size_t>(s.m * s.n));
  LinearParams p{s.m, s.k, s.n};
  std::unique_ptr<LinearOp> op;
  if (kind == "f32") {
    auto r = MakeLinear(Backend::kOneDnn, p, w.data(), b.data());
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    op = std::move(r).value();
  } else {
    auto pw = QuantizeWeights(f, s.n, s.k, w.data());
    auto r = quant::MakeQuantizedLinearWithIsa(isa, p, *pw, b.data(), {});
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    op = std::move(r).value();
  }
  op->Run(x.data(), y.data());
  for (auto _ : state) {
    op->Run(x.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(s.m * s.n * s.k) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

struct ConvShape {
  const char* name;
  int64_t in_c, out_c, h, w, kernel, stride, pad;
  bool plain;
};

void RunConv(benchmark::State& state, ConvShape c, bool int8, bool static_scale) {
  ConvParams p;
  p.in_c = c.in_c;
  p.out_c = c.out_c;
  p.in_h = c.h;
  p.in_w = c.w;
  p.kernel = c.kernel;
  p.stride = c.stride;
  p.pad = c.pad;
  p.relu = true;
  p.plain_src = c.plain;
  p.allow_winograd = true;  // what ACT's f32 backbone uses
  const int64_t kk = c.in_c * c.kernel * c.kernel;
  const auto w = Random(static_cast<size_t>(c.out_c * kk), 1, -0.05f, 0.05f);
  const auto b = Random(static_cast<size_t>(c.out_c), 2);
  std::unique_ptr<ConvOp> op;
  if (!int8) {
    auto r = MakeConv(Backend::kOneDnn, p, w.data(), b.data());
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    op = std::move(r).value();
  } else {
    QuantOptions q;
    q.static_activation_scale = static_scale;
    q.activation_scale = 1.0f / 255;
    auto r = MakeQuantizedConv(Backend::kOneDnn, p, *QuantizeWeights(WeightFormat::kInt8, c.out_c, kk, w.data()),
                               b.data(), q);
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    op = std::move(r).value();
  }
  const auto src = Random(op->src_bytes() / 4, 3, 0.f, 1.f);
  std::vector<float> dst(op->dst_bytes() / 4);
  op->Run(src.data(), dst.data());
  for (auto _ : state) {
    op->Run(src.data(), dst.data());
    benchmark::ClobberMemory();
  }
  const double ops = 2.0 * static_cast<double>(c.out_c * kk * p.out_h() * p.out_w());
  state.counters["GOP/s"] = benchmark::Counter(ops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The same layer inside an int8 pipeline (int8_pipeline.h): u8 NHWC in (s8 for the image), u8
// NHWC out, bias/ReLU/requantization fused; no f32 activations at all.
void RunPipelineConv(benchmark::State& state, ConvShape c) {
  PipelineConvParams p;
  p.conv = ConvParams{c.in_c, c.out_c, c.h, c.w, c.kernel, c.stride, c.pad, true, false, false};
  p.src = {c.plain ? PipelineType::kS8 : PipelineType::kU8, 0.02f};
  p.dst = {PipelineType::kU8, 0.05f};
  const int64_t kk = c.in_c * c.kernel * c.kernel;
  const auto w = Random(static_cast<size_t>(c.out_c * kk), 1, -0.05f, 0.05f);
  const auto b = Random(static_cast<size_t>(c.out_c), 2);
  auto r = MakePipelineConv(Backend::kOneDnn, p, *QuantizeWeights(WeightFormat::kInt8, c.out_c, kk, w.data()), b.data());
  if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  std::unique_ptr<PipelineConvOp> op = std::move(r).value();
  std::vector<uint8_t> src(op->src_bytes(), 100), dst(op->dst_bytes());
  op->Run(src.data(), dst.data());
  for (auto _ : state) {
    op->Run(src.data(), dst.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(op->implementation());
  const double ops = 2.0 * static_cast<double>(c.out_c * kk * p.conv.out_h() * p.conv.out_w());
  state.counters["GOP/s"] = benchmark::Counter(ops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void Register() {
  const Shape peak{"peak 2048x2048x2048", 2048, 2048, 2048};
  const Shape shapes[] = {
      {"vision 1024x768x768", 1024, 768, 768},   {"vision 1024x768x3072", 1024, 768, 3072},
      {"vision 1024x3072x768", 1024, 3072, 768}, {"llm qkv 240x960x1600", 240, 960, 1600},
      {"llm 240x960x2880", 240, 960, 2880},      {"llm 240x960x5120", 240, 960, 5120},
      {"llm 240x2560x960", 240, 2560, 960},      {"expert 50x720x2048", 50, 720, 2048},
      {"expert 50x2048x720", 50, 2048, 720},     {"act 602x512x512", 602, 512, 512},
      {"act 602x512x3200", 602, 512, 3200},      {"act 602x3200x512", 602, 3200, 512},
  };
  struct Kind {
    std::string label;
    KernelIsa isa;
    WeightFormat f;
  };
  std::vector<Kind> kinds = {{"f32", KernelIsa::kRef, WeightFormat::kF32}};
  for (KernelIsa isa : AvailableIsas()) {
    if (isa == KernelIsa::kRef) continue;
    kinds.push_back({std::string("int8 ") + KernelIsaName(isa), isa, WeightFormat::kInt8});
    if (isa != KernelIsa::kOneDnn) kinds.push_back({std::string("int4 ") + KernelIsaName(isa), isa, WeightFormat::kInt4});
  }
  // bf16 weights: oneDNN's bf16 matmul where the CPU has it (else they are widened: f32's row).
  if (QuantKernelName(WeightFormat::kBF16).find("bf16 matmul") != std::string::npos)
    kinds.push_back({"bf16 onednn", KernelIsa::kOneDnn, WeightFormat::kBF16});
  // f16 weights: the half-precision kernel (AVX512-FP16 / NEON fp16) where the CPU has one.
  if (QuantKernelName(WeightFormat::kF16).find("fp16") != std::string::npos)
    kinds.push_back({"f16 fp16", KernelIsa::kOneDnn, WeightFormat::kF16});
  for (const Kind& k : kinds) {
    if (k.f == WeightFormat::kInt4) continue;
    benchmark::RegisterBenchmark(("linear/" + k.label + "/" + peak.name).c_str(),
                                 [=](benchmark::State& st) { RunLinear(st, peak, k.label, k.isa, k.f); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const Shape& s : shapes)
    for (const Kind& k : kinds)
      benchmark::RegisterBenchmark(("linear/" + k.label + "/" + s.name).c_str(),
                                   [=](benchmark::State& st) { RunLinear(st, s, k.label, k.isa, k.f); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  // ACT's ResNet-18 backbone at 480x640: the stem, one conv of each stage, the stride-2 entries.
  const ConvShape convs[] = {
      {"stem 3->64 7x7/2 480x640", 3, 64, 480, 640, 7, 2, 3, true},
      {"layer1 64->64 3x3 120x160", 64, 64, 120, 160, 3, 1, 1, false},
      {"layer2 64->128 3x3/2 120x160", 64, 128, 120, 160, 3, 2, 1, false},
      {"layer2 128->128 3x3 60x80", 128, 128, 60, 80, 3, 1, 1, false},
      {"layer3 256->256 3x3 30x40", 256, 256, 30, 40, 3, 1, 1, false},
      {"layer4 512->512 3x3 15x20", 512, 512, 15, 20, 3, 1, 1, false},
  };
  for (const ConvShape& c : convs) {
    benchmark::RegisterBenchmark((std::string("conv/f32/") + c.name).c_str(),
                                 [=](benchmark::State& st) { RunConv(st, c, false, false); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("conv/int8 static/") + c.name).c_str(),
                                 [=](benchmark::State& st) { RunConv(st, c, true, true); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("conv/int8 dynamic/") + c.name).c_str(),
                                 [=](benchmark::State& st) { RunConv(st, c, true, false); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("conv/int8 pipeline/") + c.name).c_str(),
                                 [=](benchmark::State& st) { RunPipelineConv(st, c); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace embody::kernels

int main(int argc, char** argv) {
  std::printf("%s\n", embody::kernels::QuantKernelSummary().c_str());
  embody::kernels::Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
