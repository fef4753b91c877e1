#include "kernels/arch/avx512/sgemm_avx512.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <utility>

#define EMBODY_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

namespace embody::kernels::avx512 {

namespace {

constexpr int kMr = 14;                          // rows of C per micro-kernel call
constexpr int64_t kNr = PackedWeights::kPanel;   // columns of C per micro-kernel call
#ifndef KCMAX
#define KCMAX 384
#endif
#ifndef WBLOCK
#define WBLOCK (1 << 20)
#endif
constexpr int64_t kKcMax = KCMAX;                  // K block: packed A sliver 14 x 384 x 4 = 21 KiB (L1)
constexpr int64_t kWBlockBytes = WBLOCK;        // W block kc x nc target: half of the 2 MiB L2

bool EnvFlag(const char* name) {
  static const bool pfa = getenv("PFA") && atoi(getenv("PFA"));
  (void)name;
  return pfa;
}

bool EnvFlag2() {
  static const bool f = getenv("PFC") && atoi(getenv("PFC"));
  return f;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// K block size for a given K: equal blocks of at most kKcMax, rounded up to a multiple of 8.
int64_t ChooseKc(int64_t k) {
  const int64_t blocks = CeilDiv(k, kKcMax);
  const int64_t kc = (CeilDiv(k, blocks) + 7) / 8 * 8;
  return std::min(kc, k);
}

// ---------------------------------------------------------------------------------------------
// Micro-kernel: C[MR, 16 NV] (+)= A · W over one K block of kb steps, where
//   A is a packed sliver in groups of 16 k: ap[(g * MR + r) * 16 + t] = A[r][16 g + t]
//     (the last group zero-padded), and
//   W is one packed panel slice: wp[k * 32 + j] = W[j][k].
// load_c adds the existing C; bias (nullable) is added too. Columns >= ncols are not touched.

constexpr int kKg = 16;  // k steps per A group: one 64-byte line per row and group

template <int MR, int NV>
EMBODY_AVX512 inline void KSteps(const float* __restrict ag, const float* __restrict wg, int steps,
                                 __m512 (&acc)[MR][NV]) {
#pragma GCC unroll 4
  for (int t = 0; t < steps; ++t) {
    __m512 b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(wg + t * kNr + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(ag[r * kKg + t]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, b[v], acc[r][v]);
    }
  }
}

template <int MR, int NV>
EMBODY_AVX512 void MicroKernel(const float* __restrict ap, const float* __restrict wp, int64_t kb,
                               float* __restrict c, int64_t ldc, int ncols, const float* __restrict bias,
                               bool load_c) {
  // Pull the C tile towards L1 while the k loop runs; it is needed only in the epilogue.
  if (load_c || EnvFlag2()) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
      if (NV == 2) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
    }
  }
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();

  const int64_t groups = kb / kKg;
  for (int64_t g = 0; g < groups; ++g) KSteps<MR, NV>(ap + g * MR * kKg, wp + g * kKg * kNr, kKg, acc);
  const int rest = static_cast<int>(kb - groups * kKg);
  if (rest) {
    const float* ag = ap + groups * MR * kKg;
    const float* wg = wp + groups * kKg * kNr;
    for (int t = 0; t < rest; ++t) KSteps<MR, NV>(ag + t, wg + t * kNr, 1, acc);
  }

  __mmask16 mask[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    const int cols = std::clamp(ncols - 16 * v, 0, 16);
    mask[v] = static_cast<__mmask16>((1u << cols) - 1u);
  }
  __m512 bv[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) bv[v] = bias ? _mm512_maskz_loadu_ps(mask[v], bias + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      __m512 x = _mm512_add_ps(acc[r][v], bv[v]);
      if (load_c) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], cr + 16 * v));
      _mm512_mask_storeu_ps(cr + 16 * v, mask[v], x);
    }
  }
}

using KernelFn = void (*)(const float*, const float*, int64_t, float*, int64_t, int, const float*, bool);

template <int NV, int... R>
constexpr auto MakeTable(std::integer_sequence<int, R...>) {
  return std::array<KernelFn, sizeof...(R)>{&MicroKernel<R + 1, NV>...};
}
// kKernels[nv - 1][mr - 1]
const std::array<std::array<KernelFn, kMr>, 2> kKernels = {
    MakeTable<1>(std::make_integer_sequence<int, kMr>{}), MakeTable<2>(std::make_integer_sequence<int, kMr>{})};

// ---------------------------------------------------------------------------------------------
// A packing: rows [0, mr) x k [0, kb) of a (leading dimension lda) into the grouped sliver layout
// of MicroKernel. Each (row, group) is one 64-byte copy: no transposition, close to memcpy speed.

EMBODY_AVX512 void PackA(const float* __restrict a, int64_t lda, int mr, int64_t kb, float* __restrict dst) {
  const int64_t groups = kb / kKg;
  for (int64_t g = 0; g < groups; ++g)
    for (int r = 0; r < mr; ++r)
      _mm512_store_ps(dst + (g * mr + r) * kKg, _mm512_loadu_ps(a + r * lda + g * kKg));
  const int rest = static_cast<int>(kb - groups * kKg);
  if (rest) {
    const __mmask16 m = static_cast<__mmask16>((1u << rest) - 1u);
    for (int r = 0; r < mr; ++r)
      _mm512_store_ps(dst + (groups * mr + r) * kKg, _mm512_maskz_loadu_ps(m, a + r * lda + groups * kKg));
  }
}

// Per-thread A packing buffer, allocated on first use and grown as needed.
float* ThreadBuffer(int64_t floats) {
  struct Buf {
    float* p = nullptr;
    int64_t cap = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf buf;
  if (buf.cap < floats) {
    std::free(buf.p);
    const size_t bytes = static_cast<size_t>((floats * 4 + 63) / 64 * 64);
    buf.p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buf.p) throw std::bad_alloc();
    buf.cap = floats;
  }
  return buf.p;
}

// ---------------------------------------------------------------------------------------------
// One thread's rectangle: rows [m0, m1), panels [p0, p1).

struct Args {
  const float* a;
  int64_t lda;
  const PackedWeights* w;
  const float* bias;
  bool accumulate;
  float* c;
  int64_t ldc;
};

// Prefetches the rows of the A sliver packed next into L2, a slice per micro-kernel call, so
// that PackA reads from L2 instead of waiting on L3/DRAM for 14 separate rows.
struct SliverPrefetch {
  const float* a = nullptr;  // first row, first k
  int64_t lda = 0;
  int64_t rows = 0, lines_per_row = 0, per_call = 0;

  void Set(const float* a_, int64_t lda_, int64_t rows_, int64_t kb, int64_t calls) {
    a = a_;
    lda = lda_;
    rows = rows_;
    lines_per_row = (kb * 4 + 63) / 64 + 1;  // +1: the rows need not start on a line
    per_call = CeilDiv(rows * lines_per_row, std::max<int64_t>(1, calls));
  }
  void Issue(int64_t call) const {
    const int64_t total = rows * lines_per_row;
    for (int64_t l = call * per_call, e = std::min(total, l + per_call); l < e; ++l) {
      const int64_t r = l / lines_per_row, x = l % lines_per_row;
      _mm_prefetch(reinterpret_cast<const char*>(a + r * lda) + 64 * x, _MM_HINT_T1);
    }
  }
};

EMBODY_AVX512 void RunRect(const Args& g, int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
  if (m0 >= m1 || p0 >= p1) return;
  const PackedWeights& w = *g.w;
  const int64_t n = w.n(), k = w.k(), kc = w.kc();
  float* abuf = ThreadBuffer(kMr * CeilDiv(kc, kKg) * kKg);
  // Panels per W block: kc x (32 nc) floats within kWBlockBytes, blocks of equal size.
  const int64_t nc_max = std::max<int64_t>(1, kWBlockBytes / (kc * kNr * 4));
  const int64_t nblocks = CeilDiv(p1 - p0, nc_max);
  const int64_t nc = CeilDiv(p1 - p0, nblocks);
  SliverPrefetch pf;
  static const bool wpf_on = getenv("PFW") && atoi(getenv("PFW"));
  const float* wpf_cur = nullptr;
  const float* wpf_end = nullptr;
  int64_t wpf_per_call = 0;
  for (int64_t jc = p0; jc < p1; jc += nc) {
    const int64_t je = std::min(p1, jc + nc);
    for (int64_t k0 = 0; k0 < k; k0 += kc) {
      const int64_t kb = std::min(kc, k - k0);
      const bool first = k0 == 0;
      const float* bias = first ? g.bias : nullptr;
      const bool load_c = !first || g.accumulate;
      // The W block after this one, prefetched into L2 a slice per micro-kernel call while this
      // block is in use, so that its first sliver does not wait on DRAM.
      {
        const float* nb = nullptr;
        int64_t nfloats = 0;
        if (k0 + kc < k) {
          nb = w.Block(k0 + kc, jc);
          nfloats = (je - jc) * std::min(kc, k - k0 - kc) * kNr;
        } else if (je < p1) {
          const int64_t je2 = std::min(p1, je + nc);
          nb = w.Block(0, je);
          nfloats = (je2 - je) * kc * kNr;
        }
        wpf_cur = nb;
        wpf_end = nb + nfloats;
        const int64_t calls = CeilDiv(m1 - m0, kMr) * (je - jc);
        wpf_per_call = CeilDiv(nfloats / 16, calls);
      }
      for (int64_t i = m0; i < m1; i += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, m1 - i));
        PackA(g.a + i * g.lda + k0, g.lda, mr, kb, abuf);
        // The sliver after this one, in loop order.
        if (i + kMr < m1) {
          pf.Set(g.a + (i + kMr) * g.lda + k0, g.lda, std::min<int64_t>(kMr, m1 - i - kMr), kb, je - jc);
        } else if (k0 + kc < k) {
          pf.Set(g.a + m0 * g.lda + k0 + kc, g.lda, std::min<int64_t>(kMr, m1 - m0), std::min(kc, k - k0 - kc), je - jc);
        } else if (je < p1) {
          pf.Set(g.a + m0 * g.lda, g.lda, std::min<int64_t>(kMr, m1 - m0), kc, je - jc);
        } else {
          pf.rows = 0;
        }
        float* crow = g.c + i * g.ldc;
        for (int64_t p = jc; p < je; ++p) {
          if (EnvFlag("PFA")) pf.Issue(p - jc);
          if (wpf_on) {
            for (int64_t l = 0; l < wpf_per_call && wpf_cur < wpf_end; ++l, wpf_cur += 16)
              _mm_prefetch(reinterpret_cast<const char*>(wpf_cur), _MM_HINT_T1);
          }
          const int ncols = static_cast<int>(std::min<int64_t>(kNr, n - p * kNr));
          const int nv = ncols > 16 ? 2 : 1;
          kKernels[nv - 1][mr - 1](abuf, w.Block(k0, p), kb, crow + p * kNr, g.ldc, ncols,
                                   bias ? bias + p * kNr : nullptr, load_c);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Static partition of the M x N plane into a tm x tn grid.

struct Grid {
  int tm = 1, tn = 1;
};

// Rows of the largest share when `units` units of `size` (last one partial: total `extent`) are
// split into `parts` contiguous runs as evenly as possible.
int64_t LargestShare(int64_t extent, int64_t size, int parts) {
  const int64_t units = CeilDiv(extent, size);
  return std::min(extent, CeilDiv(units, parts) * size);
}

Grid ChooseGrid(int64_t m, int64_t n, int64_t k, int64_t kc, int threads) {
  Grid best;
  double best_cost = -1;
  const int64_t nc_max = std::max<int64_t>(1, kWBlockBytes / (kc * kNr * 4));
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm) continue;
    const int tn = threads / tm;
    const int64_t rows = LargestShare(m, kMr, tm);
    const int64_t cols = LargestShare(n, kNr, tn);
    if (CeilDiv(m, kMr) < tm || CeilDiv(n, kNr) < tn) continue;  // idle threads
    // Cycles of the busiest thread: FMAs (32 flops/cycle), A packing (~1 element/cycle, once
    // per W block), W streaming (~16 bytes/cycle from L3/DRAM).
    const double compute = static_cast<double>(rows) * static_cast<double>(CeilDiv(cols, 16) * 16) * k / 32.0;
    const double pack = static_cast<double>(rows) * k * CeilDiv(CeilDiv(cols, kNr), nc_max);
    const double wload = static_cast<double>(cols) * k / 4.0;
    const double cost = compute + pack + wload;
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = Grid{tm, tn};
    }
  }
  return best;
}

}  // namespace

PackedWeights PackedWeights::Pack(const float* w, int64_t n, int64_t k) {
  PackedWeights pw;
  pw.n_ = n;
  pw.k_ = k;
  pw.kc_ = ChooseKc(k);
  pw.panels_ = CeilDiv(n, kNr);
  const size_t floats = static_cast<size_t>(pw.panels_ * kNr * k);
  const size_t bytes = (floats * 4 + 63) / 64 * 64;
  pw.data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes)));
  if (!pw.data_) throw std::bad_alloc();
  float* d = pw.data_.get();
  for (int64_t k0 = 0; k0 < k; k0 += pw.kc_) {
    const int64_t kb = std::min(pw.kc_, k - k0);
    for (int64_t p = 0; p < pw.panels_; ++p) {
      float* blk = d + k0 * kNr * pw.panels_ + p * kb * kNr;
      for (int64_t t = 0; t < kb; ++t)
        for (int64_t j = 0; j < kNr; ++j) {
          const int64_t col = p * kNr + j;
          blk[t * kNr + j] = col < n ? w[col * k + k0 + t] : 0.0f;
        }
    }
  }
  return pw;
}

void Gemm(const float* a, int64_t m, int64_t lda, const PackedWeights& w, const float* bias, bool accumulate,
          float* c, int64_t ldc) {
  if (m <= 0 || w.n() <= 0) return;
  const Args g{a, lda, &w, bias, accumulate, c, ldc};
  const int64_t n = w.n(), k = w.k();
  // Below ~4 MFLOP per thread the fork/join (a few microseconds) outweighs the split.
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  int threads = std::max(1, omp_get_max_threads());
  threads = static_cast<int>(std::min<double>(threads, std::max(1.0, flops / 4e6)));
  const Grid grid = ChooseGrid(m, n, k, w.kc(), threads);
  const int used = grid.tm * grid.tn;
  const int64_t mu = CeilDiv(m, kMr), nu = w.panels();
  auto run = [&](int t) {
    const int tm = t / grid.tn, tn = t % grid.tn;
    const int64_t r0 = std::min(m, mu * tm / grid.tm * kMr), r1 = std::min(m, mu * (tm + 1) / grid.tm * kMr);
    const int64_t q0 = nu * tn / grid.tn, q1 = nu * (tn + 1) / grid.tn;
    RunRect(g, r0, r1, q0, q1);
  };
  if (used == 1) {
    run(0);
    return;
  }
#pragma omp parallel num_threads(used)
  {
    const int t = omp_get_thread_num();
    if (omp_get_num_threads() == used) {
      run(t);
    } else if (t == 0) {  // fewer threads than asked (nested region, limits): do it all here
      for (int i = 0; i < used; ++i) run(i);
    }
  }
}

bool Available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

}  // namespace embody::kernels::avx512
