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

}  // namespace
}  // namespace embody::kernels

BENCHMARK_MAIN();
