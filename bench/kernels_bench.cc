// Per-kernel throughput on ACT's real shapes (Google Benchmark). Run:
//   build/bench/embody_kernels_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace embody::kernels {
namespace {

std::vector<float> Random(size_t n) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// args: M, K, N
void BM_Linear(benchmark::State& state) {
  ThreadPool(2).BindToCallingThread();
  LinearParams p;
  p.m = state.range(0);
  p.k = state.range(1);
  p.n = state.range(2);
  auto w = Random(static_cast<size_t>(p.n * p.k)), b = Random(static_cast<size_t>(p.n)), x = Random(static_cast<size_t>(p.m * p.k));
  std::vector<float> y(static_cast<size_t>(p.m * p.n));
  auto op = MakeLinear(Backend::kOneDnn, p, w.data(), b.data());
  for (auto _ : state) (*op)->Run(x.data(), y.data());
  state.counters["GFLOP/s"] = benchmark::Counter(2e-9 * static_cast<double>(p.m * p.k * p.n) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Linear)->Args({902, 512, 3200})->Args({902, 3200, 512})->Args({902, 512, 1024})->Args({100, 512, 512})->Unit(benchmark::kMillisecond)->UseRealTime();

// args: channels, height, width, winograd
void BM_Conv3x3(benchmark::State& state) {
  ThreadPool(2).BindToCallingThread();
  ConvParams p{state.range(0), state.range(0), state.range(1), state.range(2), 3, 1, 1, true, false, false, state.range(3) != 0};
  auto w = Random(static_cast<size_t>(p.out_c * p.in_c * 9)), b = Random(static_cast<size_t>(p.out_c));
  auto op = MakeConv(Backend::kOneDnn, p, w.data(), b.data());
  std::vector<float> x((*op)->src_bytes() / 4), y((*op)->dst_bytes() / 4);
  for (auto _ : state) (*op)->Run(x.data(), y.data());
  state.counters["GFLOP/s"] = benchmark::Counter(2e-9 * static_cast<double>(p.out_c * p.in_c * 9 * p.out_h() * p.out_w()) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Conv3x3)->Args({64, 120, 160, 0})->Args({64, 120, 160, 1})->Args({512, 15, 20, 0})->Args({512, 15, 20, 1})->Unit(benchmark::kMillisecond)->UseRealTime();

// Self-attention on all heads, the encoder's shapes. args: heads, tokens, head_dim, bf16, threads.
// With threads = 1 the CPU time column is the kernel's work even on a loaded machine.
void BM_Attention(benchmark::State& state) {
  ThreadPool(static_cast<int>(state.range(4))).BindToCallingThread();
  AttentionParams p;
  p.heads = state.range(0);
  p.sq = p.sk = state.range(1);
  p.head_dim = state.range(2);
  p.bf16 = state.range(3) != 0;
  const int64_t d = p.heads * p.head_dim;
  p.ldq = p.ldk = 2 * d;
  p.ldv = p.ldo = d;
  p.scale = 0.125f;
  auto qk = Random(static_cast<size_t>(p.sq * 2 * d)), v = Random(static_cast<size_t>(p.sk * d));
  std::vector<float> o(static_cast<size_t>(p.sq * d));
  auto op = MakeAttention(Backend::kOneDnn, p);
  for (auto _ : state) (*op)->Run(qk.data(), qk.data() + d, v.data(), o.data());
  state.counters["GFLOP/s"] = benchmark::Counter(4e-9 * static_cast<double>(p.heads * p.sq * p.sk * p.head_dim) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Attention)
    ->Args({8, 902, 64, 1, 1})->Args({8, 902, 64, 1, 2})->Args({8, 902, 64, 0, 2})  // ACT encoder
    ->Args({12, 1024, 64, 1, 1})->Args({12, 1024, 64, 1, 2})->Args({12, 1024, 64, 0, 2})  // SigLIP
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace embody::kernels

BENCHMARK_MAIN();
