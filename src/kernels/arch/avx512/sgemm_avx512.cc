#include "kernels/arch/avx512/sgemm_avx512.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <utility>

#if defined(__x86_64__)
#define EMBODY_SGEMM_X86 1
#include <immintrin.h>
#else
#define EMBODY_SGEMM_X86 0
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace embody::kernels::avx512 {

namespace {

constexpr int kMr = 14;                         // rows of C per micro-kernel call
constexpr int64_t kNr = PackedWeights::kPanel;  // columns of C per micro-kernel call
constexpr int kKg = 16;                         // k steps per A group (one 64-byte line per row)
#ifndef EMBODY_SGEMM_KC
#define EMBODY_SGEMM_KC 384
#endif
#ifndef EMBODY_SGEMM_WBLOCK
#define EMBODY_SGEMM_WBLOCK (1 << 20)
#endif
constexpr int64_t kKcMax = EMBODY_SGEMM_KC;           // A sliver 14 x 384 x 4 B = 21 KiB: L1
constexpr int64_t kWBlockBytes = EMBODY_SGEMM_WBLOCK;  // W block: half of the 2 MiB L2

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// K block size for a given K: equal blocks of at most kKcMax, rounded up to a multiple of 8.
int64_t ChooseKc(int64_t k) {
  const int64_t blocks = CeilDiv(k, kKcMax);
  const int64_t kc = (CeilDiv(k, blocks) + 7) / 8 * 8;
  return std::min(kc, k);
}

// Panels per W block for K blocks of kc: kc x (32 nc) floats within kWBlockBytes.
int64_t NcMax(int64_t kc) { return std::max<int64_t>(1, kWBlockBytes / (kc * kNr * 4)); }

// Whether the micro-kernel can broadcast straight from A's rows (leading dimension lda, kc
// columns per K block) instead of from a packed copy. The 14 row segments are re-read for every
// panel, so they must stay in L1 together: count how many of them fall on each of the 64 sets of
// the L1 (48 KiB, 12 ways) and pack when some set would need more than 8 ways. A leading
// dimension that is a multiple of 1024 floats (K = 1024, 2048, 3072, 12288) puts all 14 rows on
// the same sets and is packed; K = 320, 512, 720, 768, 960, 1440, 2560, 3200 run unpacked.
[[maybe_unused]] bool DirectA(int64_t lda, int64_t kc) {
  int count[64] = {};
  const int64_t lines = std::min<int64_t>(64, (kc * 4 + 63) / 64 + 1);  // +1: unaligned rows
  for (int64_t r = 0; r < kMr; ++r) {
    const int64_t first = (r * lda * 4 / 64) % 64;
    for (int64_t l = 0; l < lines; ++l) ++count[(first + l) % 64];
  }
  return *std::max_element(count, count + 64) <= 8;
}

void* AllocBytes(size_t bytes) {
  // Large buffers on 2 MiB boundaries, with a hint for transparent huge pages: the packed W is
  // streamed by every call and 4 KiB pages cost a page walk (a nested one under virtualisation)
  // every 4 KiB.
  // The size is not rounded up to 2 MiB: that wasted ~250 MB over SmolVLA's ~300 matrices.
  const size_t align = bytes >= (size_t{2} << 20) ? (size_t{2} << 20) : 64;
  const size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = nullptr;
  if (posix_memalign(&p, align, rounded) != 0) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align > 64) madvise(p, rounded / align * align, MADV_HUGEPAGE);  // whole huge pages only
#endif
  return p;
}

// Per-thread A packing buffer, allocated on first use and grown as needed.
[[maybe_unused]] float* ThreadBuffer(int64_t floats) {
  struct Buf {
    float* p = nullptr;
    int64_t cap = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf buf;
  if (buf.cap < floats) {
    std::free(buf.p);
    buf.p = nullptr;
    buf.p = static_cast<float*>(AllocBytes(static_cast<size_t>(floats) * 4));
    buf.cap = floats;
  }
  return buf.p;
}

#if EMBODY_SGEMM_X86

#define EMBODY_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

// ---------------------------------------------------------------------------------------------
// Micro-kernels: C[MR, 16 NV] (+)= A · W over one K block of kb steps.
//   W: one packed panel slice, wp[k * 32 + j] = W[j][k] (64-byte aligned).
//   A: element (r, k) at ap[r * rs + (k / 16) * gs + k % 16], which covers both
//      - A itself: rs = lda, gs = 16, and
//      - a packed sliver: rs = 16, gs = MR * 16 (groups of 16 k, one 64-byte line per row).
// The epilogue adds bias (nullable) and, if load_c, the existing C; columns >= ncols are not
// touched.

// Masked C update shared by both kernels: C[r][0 .. ncols) = acc + bias (+ C).
template <int MR, int NV>
EMBODY_AVX512 inline void StoreTile(const __m512 (&acc)[MR][NV], float* __restrict c, int64_t ldc, int ncols,
                                    const float* __restrict bias, bool load_c) {
  __mmask16 mask[NV];
  __m512 bv[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    const int cols = std::clamp(ncols - 16 * v, 0, 16);
    mask[v] = static_cast<__mmask16>((1u << cols) - 1u);
    bv[v] = bias ? _mm512_maskz_loadu_ps(mask[v], bias + 16 * v) : _mm512_setzero_ps();
  }
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

// Pulls the C tile towards L1 while the k loop runs; it is needed only in the epilogue.
template <int MR, int NV>
EMBODY_AVX512 inline void PrefetchTile(const float* c, int64_t ldc) {
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    if (NV == 2) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
}

// The main kernel, 14 x 32, in inline assembly: with a run-time row stride GCC spills the row
// pointers and one W vector (it keeps 14 pointers live), costing a load per FMA. Here row r is
// read at base[r / 5] + {0, rs, 2 rs, 3 rs, 4 rs}[r % 5], i.e. three base and two index registers
// with x86 [base + index * scale + disp] addressing. Accumulators: zmm0-13 (columns 0-15) and
// zmm14-27 (columns 16-31); W in zmm28/29; broadcasts alternate zmm30/31.
#define EMBODY_ROW(addr, r0, r1, bc)                                     \
  "vbroadcastss " addr ", %%zmm" #bc "\n\t"                              \
  "vfmadd231ps %%zmm28, %%zmm" #bc ", %%zmm" #r0 "\n\t"                  \
  "vfmadd231ps %%zmm29, %%zmm" #bc ", %%zmm" #r1 "\n\t"
#define EMBODY_STEP(D, W0, W1)                                           \
  "vmovaps " W0 "(%[w]), %%zmm28\n\t"                                    \
  "vmovaps " W1 "(%[w]), %%zmm29\n\t"                                    \
  EMBODY_ROW(D "(%[b0])", 0, 14, 30)                                     \
  EMBODY_ROW(D "(%[b0],%[rs],1)", 1, 15, 31)                             \
  EMBODY_ROW(D "(%[b0],%[rs],2)", 2, 16, 30)                             \
  EMBODY_ROW(D "(%[b0],%[rs3],1)", 3, 17, 31)                            \
  EMBODY_ROW(D "(%[b0],%[rs],4)", 4, 18, 30)                             \
  EMBODY_ROW(D "(%[b1])", 5, 19, 31)                                     \
  EMBODY_ROW(D "(%[b1],%[rs],1)", 6, 20, 30)                             \
  EMBODY_ROW(D "(%[b1],%[rs],2)", 7, 21, 31)                             \
  EMBODY_ROW(D "(%[b1],%[rs3],1)", 8, 22, 30)                            \
  EMBODY_ROW(D "(%[b1],%[rs],4)", 9, 23, 31)                             \
  EMBODY_ROW(D "(%[b2])", 10, 24, 30)                                    \
  EMBODY_ROW(D "(%[b2],%[rs],1)", 11, 25, 31)                            \
  EMBODY_ROW(D "(%[b2],%[rs],2)", 12, 26, 30)                            \
  EMBODY_ROW(D "(%[b2],%[rs3],1)", 13, 27, 31)

EMBODY_AVX512 void Kernel14x32(const float* ap, int64_t rs, int64_t gs, const float* wp, int64_t kb, float* c,
                               int64_t ldc, int ncols, const float* bias, bool load_c) {
  if (load_c) PrefetchTile<kMr, 2>(c, ldc);
  alignas(64) float out[kMr][kNr];
  const char* b0 = reinterpret_cast<const char*>(ap);
  const char* b1 = reinterpret_cast<const char*>(ap + 5 * rs);
  const char* b2 = reinterpret_cast<const char*>(ap + 10 * rs);
  const float* w = wp;
  int64_t groups = kb / kKg, rest = kb % kKg;
  const int64_t rsb = rs * 4, rs3b = 3 * rs * 4, gsb = gs * 4;
  __asm__ volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vmovaps %%zmm0, %%zmm1\n\t vmovaps %%zmm0, %%zmm2\n\t vmovaps %%zmm0, %%zmm3\n\t"
      "vmovaps %%zmm0, %%zmm4\n\t vmovaps %%zmm0, %%zmm5\n\t vmovaps %%zmm0, %%zmm6\n\t"
      "vmovaps %%zmm0, %%zmm7\n\t vmovaps %%zmm0, %%zmm8\n\t vmovaps %%zmm0, %%zmm9\n\t"
      "vmovaps %%zmm0, %%zmm10\n\t vmovaps %%zmm0, %%zmm11\n\t vmovaps %%zmm0, %%zmm12\n\t"
      "vmovaps %%zmm0, %%zmm13\n\t vmovaps %%zmm0, %%zmm14\n\t vmovaps %%zmm0, %%zmm15\n\t"
      "vmovaps %%zmm0, %%zmm16\n\t vmovaps %%zmm0, %%zmm17\n\t vmovaps %%zmm0, %%zmm18\n\t"
      "vmovaps %%zmm0, %%zmm19\n\t vmovaps %%zmm0, %%zmm20\n\t vmovaps %%zmm0, %%zmm21\n\t"
      "vmovaps %%zmm0, %%zmm22\n\t vmovaps %%zmm0, %%zmm23\n\t vmovaps %%zmm0, %%zmm24\n\t"
      "vmovaps %%zmm0, %%zmm25\n\t vmovaps %%zmm0, %%zmm26\n\t vmovaps %%zmm0, %%zmm27\n\t"
      "test %[groups], %[groups]\n\t"
      "jz 2f\n\t"
      "1:\n\t"  // 16 k steps
      EMBODY_STEP("0", "0", "64") EMBODY_STEP("4", "128", "192") EMBODY_STEP("8", "256", "320")
      EMBODY_STEP("12", "384", "448") EMBODY_STEP("16", "512", "576") EMBODY_STEP("20", "640", "704")
      EMBODY_STEP("24", "768", "832") EMBODY_STEP("28", "896", "960") EMBODY_STEP("32", "1024", "1088")
      EMBODY_STEP("36", "1152", "1216") EMBODY_STEP("40", "1280", "1344") EMBODY_STEP("44", "1408", "1472")
      EMBODY_STEP("48", "1536", "1600") EMBODY_STEP("52", "1664", "1728") EMBODY_STEP("56", "1792", "1856")
      EMBODY_STEP("60", "1920", "1984")
      "add %[gsb], %[b0]\n\t"
      "add %[gsb], %[b1]\n\t"
      "add %[gsb], %[b2]\n\t"
      "add $2048, %[w]\n\t"
      "dec %[groups]\n\t"
      "jnz 1b\n\t"
      "2:\n\t"
      "test %[rest], %[rest]\n\t"
      "jz 4f\n\t"
      "3:\n\t"  // the last kb % 16 steps, one at a time
      EMBODY_STEP("0", "0", "64")
      "add $4, %[b0]\n\t"
      "add $4, %[b1]\n\t"
      "add $4, %[b2]\n\t"
      "add $128, %[w]\n\t"
      "dec %[rest]\n\t"
      "jnz 3b\n\t"
      "4:\n\t"
      "vmovaps %%zmm0, 0(%[out])\n\t vmovaps %%zmm14, 64(%[out])\n\t"
      "vmovaps %%zmm1, 128(%[out])\n\t vmovaps %%zmm15, 192(%[out])\n\t"
      "vmovaps %%zmm2, 256(%[out])\n\t vmovaps %%zmm16, 320(%[out])\n\t"
      "vmovaps %%zmm3, 384(%[out])\n\t vmovaps %%zmm17, 448(%[out])\n\t"
      "vmovaps %%zmm4, 512(%[out])\n\t vmovaps %%zmm18, 576(%[out])\n\t"
      "vmovaps %%zmm5, 640(%[out])\n\t vmovaps %%zmm19, 704(%[out])\n\t"
      "vmovaps %%zmm6, 768(%[out])\n\t vmovaps %%zmm20, 832(%[out])\n\t"
      "vmovaps %%zmm7, 896(%[out])\n\t vmovaps %%zmm21, 960(%[out])\n\t"
      "vmovaps %%zmm8, 1024(%[out])\n\t vmovaps %%zmm22, 1088(%[out])\n\t"
      "vmovaps %%zmm9, 1152(%[out])\n\t vmovaps %%zmm23, 1216(%[out])\n\t"
      "vmovaps %%zmm10, 1280(%[out])\n\t vmovaps %%zmm24, 1344(%[out])\n\t"
      "vmovaps %%zmm11, 1408(%[out])\n\t vmovaps %%zmm25, 1472(%[out])\n\t"
      "vmovaps %%zmm12, 1536(%[out])\n\t vmovaps %%zmm26, 1600(%[out])\n\t"
      "vmovaps %%zmm13, 1664(%[out])\n\t vmovaps %%zmm27, 1728(%[out])\n\t"
      : [b0] "+r"(b0), [b1] "+r"(b1), [b2] "+r"(b2), [w] "+r"(w), [groups] "+r"(groups), [rest] "+r"(rest)
      : [rs] "r"(rsb), [rs3] "r"(rs3b), [gsb] "r"(gsb), [out] "r"(&out[0][0])
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
        "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  __m512 acc[kMr][2];
#pragma GCC unroll 16
  for (int r = 0; r < kMr; ++r) {
    acc[r][0] = _mm512_load_ps(&out[r][0]);
    acc[r][1] = _mm512_load_ps(&out[r][16]);
  }
  StoreTile<kMr, 2>(acc, c, ldc, ncols, bias, load_c);
}
#undef EMBODY_STEP
#undef EMBODY_ROW

// Remainder slivers (MR < 14 rows), packed only (rs = 16, gs = MR * 16): the offsets are
// compile-time constants and GCC keeps everything in registers. With fewer than 8 accumulators
// the FMA latency (4 cycles, 2 ports) would bound the loop, so small tiles (M = 1..3: decoding,
// the last rows) keep S interleaved sets of accumulators over consecutive k and add them at the
// end.
template <int MR, int NV>
EMBODY_AVX512 inline void PackedStep(const float* __restrict ap, const float* __restrict wp, int64_t k,
                                     __m512 (&acc)[MR][NV]) {
  const float* ag = ap + (k / kKg) * MR * kKg + k % kKg;
  __m512 b[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(wp + k * kNr + 16 * v);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const __m512 av = _mm512_set1_ps(ag[r * kKg]);
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, b[v], acc[r][v]);
  }
}

template <int MR, int NV>
EMBODY_AVX512 void KernelPacked(const float* __restrict ap, const float* __restrict wp, int64_t kb,
                                float* __restrict c, int64_t ldc, int ncols, const float* __restrict bias,
                                bool load_c) {
  constexpr int S = MR * NV >= 8 ? 1 : (8 + MR * NV - 1) / (MR * NV);
  if (load_c) PrefetchTile<MR, NV>(c, ldc);
  __m512 acc[S][MR][NV];
#pragma GCC unroll 8
  for (int q = 0; q < S; ++q)
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[q][r][v] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + S <= kb; k += S)
#pragma GCC unroll 8
    for (int q = 0; q < S; ++q) PackedStep<MR, NV>(ap, wp, k + q, acc[q]);
  for (; k < kb; ++k) PackedStep<MR, NV>(ap, wp, k, acc[0]);
#pragma GCC unroll 8
  for (int q = 1; q < S; ++q)
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm512_add_ps(acc[0][r][v], acc[q][r][v]);
  StoreTile<MR, NV>(acc[0], c, ldc, ncols, bias, load_c);
}

using PackedFn = void (*)(const float*, const float*, int64_t, float*, int64_t, int, const float*, bool);

template <int NV, int... R>
constexpr auto MakeTable(std::integer_sequence<int, R...>) {
  return std::array<PackedFn, sizeof...(R)>{&KernelPacked<R + 1, NV>...};
}
// kPackedKernels[nv - 1][mr - 1], mr < 14
const std::array<std::array<PackedFn, kMr - 1>, 2> kPackedKernels = {
    MakeTable<1>(std::make_integer_sequence<int, kMr - 1>{}), MakeTable<2>(std::make_integer_sequence<int, kMr - 1>{})};

// ---------------------------------------------------------------------------------------------
// A packing: rows [0, mr) x k [0, kb) of a (leading dimension lda) into dst[(g * mr + r) * 16 + t]
// = a[r][16 g + t], the last group zero-padded. Each (row, group) is one 64-byte copy: no
// transposition, close to memcpy speed.

EMBODY_AVX512 void PackA(const float* __restrict a, int64_t lda, int mr, int64_t kb, float* __restrict dst) {
  const int64_t groups = kb / kKg;
  for (int64_t g = 0; g < groups; ++g)
    for (int r = 0; r < mr; ++r) _mm512_store_ps(dst + (g * mr + r) * kKg, _mm512_loadu_ps(a + r * lda + g * kKg));
  const int rest = static_cast<int>(kb - groups * kKg);
  if (rest) {
    const __mmask16 m = static_cast<__mmask16>((1u << rest) - 1u);
    for (int r = 0; r < mr; ++r)
      _mm512_store_ps(dst + (groups * mr + r) * kKg, _mm512_maskz_loadu_ps(m, a + r * lda + groups * kKg));
  }
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
  bool direct;  // full slivers broadcast from A itself (DirectA)
};

EMBODY_AVX512 void RunRect(const Args& g, int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
  if (m0 >= m1 || p0 >= p1) return;
  const PackedWeights& w = *g.w;
  const int64_t n = w.n(), k = w.k(), kc = w.kc();
  float* abuf = ThreadBuffer(kMr * CeilDiv(kc, kKg) * kKg);
  const int64_t nc_max = NcMax(kc);
  const int64_t nc = CeilDiv(p1 - p0, CeilDiv(p1 - p0, nc_max));  // equal W blocks
  for (int64_t jc = p0; jc < p1; jc += nc) {
    const int64_t je = std::min(p1, jc + nc);
    for (int64_t k0 = 0; k0 < k; k0 += kc) {
      const int64_t kb = std::min(kc, k - k0);
      const bool first = k0 == 0;
      const float* bias = first ? g.bias : nullptr;
      const bool load_c = !first || g.accumulate;
      for (int64_t i = m0; i < m1; i += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, m1 - i));
        const float* arow = g.a + i * g.lda + k0;
        const bool direct = g.direct && mr == kMr;
        if (!direct) PackA(arow, g.lda, mr, kb, abuf);
        float* crow = g.c + i * g.ldc;
        for (int64_t p = jc; p < je; ++p) {
          const int ncols = static_cast<int>(std::min<int64_t>(kNr, n - p * kNr));
          const float* wp = w.Block(k0, p);
          const float* bp = bias ? bias + p * kNr : nullptr;
          if (mr == kMr) {
            // A half panel (ncols <= 16) also runs here: its zero-padded columns are masked off.
            if (direct) {
              Kernel14x32(arow, g.lda, kKg, wp, kb, crow + p * kNr, g.ldc, ncols, bp, load_c);
            } else {
              Kernel14x32(abuf, kKg, kMr * kKg, wp, kb, crow + p * kNr, g.ldc, ncols, bp, load_c);
            }
          } else {
            const int nv = ncols > 16 ? 2 : 1;
            kPackedKernels[nv - 1][mr - 1](abuf, wp, kb, crow + p * kNr, g.ldc, ncols, bp, load_c);
          }
        }
      }
    }
  }
}

#undef EMBODY_AVX512

#endif  // EMBODY_SGEMM_X86

// ---------------------------------------------------------------------------------------------
// Static partition of the M x N plane into a tm x tn grid of rectangles.

struct Grid {
  int tm = 1, tn = 1;
};

// Largest share when `extent` (in units of `size`, the last one partial) is split into `parts`
// contiguous runs of whole units as evenly as possible.
int64_t LargestShare(int64_t extent, int64_t size, int parts) {
  const int64_t units = CeilDiv(extent, size);
  return std::min(extent, CeilDiv(units, parts) * size);
}

[[maybe_unused]] Grid ChooseGrid(int64_t m, int64_t n, int64_t k, int64_t kc, bool direct, int threads) {
  Grid best;
  double best_cost = -1;
  for (int tm = 1; tm <= threads; ++tm) {
    for (int tn = 1; tm * tn <= threads; ++tn) {
      if (CeilDiv(m, kMr) < tm || CeilDiv(n, kNr) < tn) continue;  // some thread would idle
      const int64_t rows = LargestShare(m, kMr, tm);
      const int64_t cols = LargestShare(n, kNr, tn);
      // Cycles of the busiest thread: FMAs (32 flops per cycle on 16-column halves); reading
      // A (~1 element per cycle, once per W block: packing, or the first panel's misses when
      // unpacked); streaming its W (~16 bytes per cycle from L3/DRAM); plus ~2000 cycles of
      // fork/join per thread, so that ties go to fewer threads.
      const double compute = static_cast<double>(rows) * static_cast<double>(CeilDiv(cols, 16) * 16) * k / 32.0;
      const double reads_a =
          static_cast<double>(rows) * k * CeilDiv(CeilDiv(cols, kNr), NcMax(kc)) * (direct ? 0.5 : 1.0);
      const double reads_w = static_cast<double>(cols) * k / 4.0;
      const double cost = compute + reads_a + reads_w + 2000.0 * tm * tn;
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best = Grid{tm, tn};
      }
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
  pw.data_.reset(static_cast<float*>(AllocBytes(floats * 4)));
  float* d = pw.data_.get();
  for (int64_t k0 = 0; k0 < k; k0 += pw.kc_) {
    const int64_t kb = std::min(pw.kc_, k - k0);
    for (int64_t p = 0; p < pw.panels_; ++p) {
      float* blk = d + k0 * kNr * pw.panels_ + p * kb * kNr;
      for (int64_t j = 0; j < kNr; ++j) {
        const int64_t col = p * kNr + j;
        for (int64_t t = 0; t < kb; ++t) blk[t * kNr + j] = col < n ? w[col * k + k0 + t] : 0.0f;
      }
    }
  }
  return pw;
}

void Gemm(const float* a, int64_t m, int64_t lda, const PackedWeights& w, const float* bias, bool accumulate,
          float* c, int64_t ldc) {
#if EMBODY_SGEMM_X86
  if (m <= 0 || w.n() <= 0) return;
  const int64_t n = w.n(), k = w.k();
  const Args g{a, lda, &w, bias, accumulate, c, ldc, DirectA(lda, w.kc())};
  // Below ~1 MFLOP per thread (a few microseconds) the fork/join outweighs the split; small-M
  // products stream W from memory, which two cores do faster than one.
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  int threads = std::max(1, omp_get_max_threads());
  threads = static_cast<int>(std::min<double>(threads, std::max(1.0, flops / 1e6)));
  const Grid grid = ChooseGrid(m, n, k, w.kc(), g.direct, threads);
  const int used = grid.tm * grid.tn;
  const int64_t mu = CeilDiv(m, kMr), nu = w.panels();
  auto run = [&](int t) {
    const int ti = t / grid.tn, tj = t % grid.tn;
    const int64_t r0 = std::min(m, mu * ti / grid.tm * kMr), r1 = std::min(m, mu * (ti + 1) / grid.tm * kMr);
    RunRect(g, r0, r1, nu * tj / grid.tn, nu * (tj + 1) / grid.tn);
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
    } else if (t == 0) {  // fewer threads than asked (nested region, thread limit): do it all here
      for (int i = 0; i < used; ++i) run(i);
    }
  }
#else
  (void)a, (void)m, (void)lda, (void)w, (void)bias, (void)accumulate, (void)c, (void)ldc;
  std::abort();  // REQUIRES: Available()
#endif
}

bool Available() {
#if EMBODY_SGEMM_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace embody::kernels::avx512
