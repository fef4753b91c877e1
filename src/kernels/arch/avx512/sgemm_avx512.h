// f32 GEMM for AVX-512 CPUs with a weight matrix repacked once at load:
//
//   C[M, N] = A[M, K] · W[N, K]^T (+ bias[N]) (+ C, when accumulating)
//
// A and C are row-major with leading dimensions lda and ldc; W is in PyTorch Linear layout
// [N, K] and is repacked by PackedWeights::Pack. M is free per call (1..thousands), K and N are
// fixed by the weights. A residual add (C = A·W^T + bias + R) is a copy of R into C followed by
// an accumulating Gemm.
//
// The AVX-512 code is compiled with per-function target attributes, so this file builds for the
// baseline x86-64 of the project; call Available() before Gemm and fall back when it is false
// (always false off x86-64, where the file still compiles).
//
// Micro-kernel: kMr x kNr = 14 x 32 of C lives in 28 zmm accumulators (2 vectors per row). Each
// k step loads 2 vectors of packed W and broadcasts 14 values of A (vbroadcastss from memory,
// then 2 FMAs each): 28 FMAs per 16 loads, so the two FMA ports set the pace and 28 independent
// chains cover the 4-cycle FMA latency. 14 rows is the most that fits 32 registers with two W
// vectors and two broadcast registers; 32 columns keeps the W stream from L2 at 128 bytes per
// 14 cycles. Measured alone on this CPU (Sapphire Rapids, ~3.2 GHz) it runs at ~183 GFLOP/s per
// core, ~88% of the FMA peak: broadcasts interleaved with FMAs cost ~12% here whatever the tile
// shape (6x64, 8x48, 12x32 measured the same; embedded {1to16} broadcasts are slower).
// The 14-row kernel is inline assembly (GCC spills with a run-time row stride); row remainders
// (1..13 rows) use intrinsics on a packed copy, with k-interleaved accumulator sets below 8
// accumulators (M = 1..3 would otherwise wait on the FMA latency). A last panel with <= 16 valid
// columns runs the same kernels; columns past N are masked on the C loads and stores.
//
// Packed W layout (PackedWeights), for K blocked in kc-sized slices (kc chosen from K at pack):
//   for each K block b (k0 = b * kc, kb = min(kc, K - k0) rows of K):
//     for each panel p of 32 columns (panels = ceil(N / 32), N padded with zeros to 32 * panels):
//       kb x 32 floats, k-major: element (n = 32 p + j, k = k0 + t) at
//       data[k0 * 32 * panels + p * kb * 32 + t * 32 + j]
// so the W block a thread works on (one K block x a run of panels) is one contiguous range:
// it streams from memory with no L2 set conflicts, whatever K is (a layout with K-contiguous
// panels spaced K * 128 bytes apart would map a power-of-two K onto a few L2 sets). The buffer
// is 64-byte aligned (2 MiB aligned with a transparent-huge-page hint when large: 4 KiB pages
// cost a page walk, a nested one under virtualisation, every 4 KiB of the stream).
//
// Cache blocking (per thread), loop order jc -> kb -> ir -> jr:
//   kc <= 384 (K split into equal blocks, a multiple of 8): the 14 x kc sliver of A (21 KiB)
//       stays in L1 (48 KiB) while it is reused across every panel of the W block, and the C
//       tile is read and written once per K block. (256 and 512 measured the same.)
//   nc: panels per W block so that kc x nc stays around 1 MiB of the 2 MiB L2: the block is
//       loaded once per (jc, kb) and reused by every 14-row sliver of the thread's M range.
//   A: read in place when its leading dimension spreads the 14 rows over the L1 sets (lda not
//       a multiple of ~1024 floats: K = 320, 512, 720, 768, 960, 1440, 2560, 3200); otherwise
//       (K = 1024, 2048, 3072, 12288, and remainder slivers) packed per (jc, kb, sliver) into a
//       thread_local buffer (allocated once per thread, grown as needed) in groups of 16 k, one
//       64-byte line per row and group: a copy without transposition.
// Threads: an OpenMP parallel region inside Gemm on the calling thread's team. The M x N plane
// is cut statically into a tm x tn grid of rectangles (whole 14-row slivers by whole 32-column
// panels), the grid chosen by a small cost model (compute + reading A + streaming W per thread,
// plus a fork/join cost per thread): with 2 threads every benchmarked shape splits N (each
// thread reads its own half of W, its W blocks stay in its own L2); with 4..8 threads large M
// also splits M. Products under ~1 MFLOP per thread run on fewer threads (down to the caller's).

#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace embody::kernels::avx512 {

// Weights repacked for the kernel; immutable, shareable across threads (Gemm only reads).
class PackedWeights {
 public:
  static constexpr int64_t kPanel = 32;  // columns per packed panel (the micro-kernel's NR)

  PackedWeights() = default;
  // w: [n, k] row-major. n >= 1, k >= 1.
  static PackedWeights Pack(const float* w, int64_t n, int64_t k);

  int64_t n() const { return n_; }
  int64_t k() const { return k_; }
  int64_t kc() const { return kc_; }          // K block size of the layout
  int64_t panels() const { return panels_; }  // ceil(n / kPanel)
  const float* data() const { return data_.get(); }
  // Start of panel p of the K block beginning at k0 (k0 a multiple of kc()).
  const float* Block(int64_t k0, int64_t p) const {
    const int64_t kb = k_ - k0 < kc_ ? k_ - k0 : kc_;
    return data_.get() + k0 * kPanel * panels_ + p * kb * kPanel;
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  int64_t n_ = 0, k_ = 0, kc_ = 0, panels_ = 0;
  std::unique_ptr<float[], Free> data_;
};

// C = A W^T (+ bias) (+ C if accumulate). a: [m, k] with leading dimension lda >= k; c: [m, n]
// with ldc >= n; bias: [n] or nullptr. Only the m x n elements of C are written. Threads: an
// OpenMP parallel region with up to omp_get_max_threads() of the calling thread. No allocation
// except the first use (or growth) of a thread's A packing buffer. REQUIRES: Available().
void Gemm(const float* a, int64_t m, int64_t lda, const PackedWeights& w, const float* bias, bool accumulate,
          float* c, int64_t ldc);

// True when the CPU runs AVX-512F/BW/VL and FMA (what the kernel is compiled for).
bool Available();

}  // namespace embody::kernels::avx512
