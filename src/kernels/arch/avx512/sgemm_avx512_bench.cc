// Standalone benchmark: embody's AVX-512 GEMM (packed weights) against oneDNN's dnnl_sgemm on
// the linear-layer shapes of our transformers, C[M, N] = A[M, K] · W[N, K]^T, 2 threads.
//
//   g++ -std=c++20 -O3 -fopenmp -I src src/kernels/arch/avx512/sgemm_avx512.cc
//       src/kernels/arch/avx512/sgemm_avx512_bench.cc -ldnnl -o /tmp/sgemm_bench
//   /tmp/sgemm_bench [threads] [reps]
//
// Each shape: warm-up, then the median of >= 7 timed runs (each run repeats the GEMM enough
// times to last ~20 ms), ours and oneDNN's runs alternating so that a change in machine load
// hits both alike. The 1-minute load average is printed before and after: the absolute numbers
// are only meaningful on an otherwise idle machine.
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/arch/avx512/sgemm_avx512.h"

namespace {

using Clock = std::chrono::steady_clock;

// Seconds per call of f, one sample: enough back-to-back calls to last ~20 ms.
template <typename F>
double Sample(F&& f, int inner) {
  const auto t0 = Clock::now();
  for (int i = 0; i < inner; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / inner;
}

template <typename F>
int InnerCount(F&& f) {
  f();  // warm-up: first-touch of C, thread pool start, oneDNN's JIT
  const double one = Sample(f, 1);
  return std::max(1, static_cast<int>(0.02 / std::max(one, 1e-7)));
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double LoadAverage() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  namespace av = embody::kernels::avx512;
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int reps = std::max(7, argc > 2 ? std::atoi(argv[2]) : 9);
  if (!av::Available()) {
    std::printf("no AVX-512 on this CPU\n");
    return 1;
  }
  omp_set_num_threads(threads);
  struct Shape {
    int64_t m, k, n;
  };
  const Shape shapes[] = {{902, 512, 1024},  {902, 512, 3200},  {902, 3200, 512},  {1024, 768, 2304},
                          {1024, 768, 3072}, {1024, 3072, 768}, {241, 960, 1600},  {241, 960, 5120},
                          {241, 2560, 960},  {50, 720, 1600},   {50, 720, 4096},   {2048, 2048, 2048},
                          // decoding-size products (memory-bound on W)
                          {1, 960, 2560},    {4, 960, 960}};
  std::printf("threads %d, median of %d runs, load average %.2f\n", threads, reps, LoadAverage());
  std::printf("GFLOP/s: median (best)\n");
  std::printf("%5s %5s %5s | %15s | %15s | %6s\n", "M", "K", "N", "embody", "dnnl_sgemm", "ratio");
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (const Shape& s : shapes) {
    std::vector<float> a(static_cast<size_t>(s.m * s.k)), w(static_cast<size_t>(s.n * s.k));
    std::vector<float> c(static_cast<size_t>(s.m * s.n));
    for (auto& x : a) x = d(gen);
    for (auto& x : w) x = d(gen);
    const av::PackedWeights pw = av::PackedWeights::Pack(w.data(), s.n, s.k);
    const double flop = 2.0 * s.m * s.n * s.k;
    auto ours = [&] { av::Gemm(a.data(), s.m, s.k, pw, nullptr, false, c.data(), s.n); };
    auto dnnl = [&] { dnnl_sgemm('N', 'T', s.m, s.n, s.k, 1.f, a.data(), s.k, w.data(), s.k, 0.f, c.data(), s.n); };
    const int inner_ours = InnerCount(ours), inner_dnnl = InnerCount(dnnl);
    // Alternate the two so that a change in machine load hits both alike.
    std::vector<double> to, td;
    for (int r = 0; r < reps; ++r) {
      to.push_back(Sample(ours, inner_ours));
      td.push_back(Sample(dnnl, inner_dnnl));
    }
    const double t_ours = Median(to), t_dnnl = Median(td);
    const double b_ours = *std::min_element(to.begin(), to.end()), b_dnnl = *std::min_element(td.begin(), td.end());
    std::printf("%5lld %5lld %5lld | %6.1f (%6.1f) | %6.1f (%6.1f) | %6.2f\n", static_cast<long long>(s.m),
                static_cast<long long>(s.k), static_cast<long long>(s.n), flop / t_ours * 1e-9, flop / b_ours * 1e-9,
                flop / t_dnnl * 1e-9, flop / b_dnnl * 1e-9, t_dnnl / t_ours);
    std::fflush(stdout);
  }
  std::printf("load average after %.2f\n", LoadAverage());
  return 0;
}
