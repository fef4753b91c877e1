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
// baseline x86-64 of the project; call Available() before Gemm and fall back when it is false.
//
// Micro-kernel: kMr x kNr = 14 x 32 of C lives in 28 zmm accumulators (2 vectors per row). Each
// k step loads 2 vectors of packed W and broadcasts 14 values of packed A straight into the FMAs
// (`vfmadd231ps zmm, zmm, [mem]{1to16}`): 28 FMAs for 16 loads, so the two FMA ports set the
// pace (the two vector load ports have headroom), and 28 independent chains cover the 4-cycle
// FMA latency. 14 rows is the most that fits 32 registers with two W vectors and a broadcast
// scratch register; 32 columns keeps the W stream out of L2 at 128 bytes per 14 cycles. Row
// remainders (1..13) and a last panel of <= 16 valid columns run specialised copies of the same
// kernel (fewer rows, one W vector); columns past N are masked on the C loads and stores.
//
// Packed W layout (PackedWeights), for K blocked in kc-sized slices (kc chosen from K at pack):
//   for each K block b (k0 = b * kc, kb = min(kc, K - k0) rows of K):
//     for each panel p of 32 columns (panels = ceil(N / 32), N padded with zeros to 32 * panels):
//       kb x 32 floats, k-major: element (n = 32 p + j, k = k0 + t) at
//       data[k0 * 32 * panels + p * kb * 32 + t * 32 + j]
// so the W block a thread works on (one K block x a run of panels) is one contiguous range:
// it streams from memory with no L2 set conflicts, whatever K is (a layout with K-contiguous
// panels spaced K * 128 bytes apart would map a power-of-two K onto a few L2 sets). The buffer
// is 64-byte aligned and every panel slice starts on a cache line.
//
// Cache blocking (per thread), loop order jc -> kb -> ir -> jr:
//   kc <= 384 (K split into equal blocks, multiple of 8): the packed A sliver of 14 x kc floats
//       (21 KiB) stays in L1 (48 KiB) while it is reused across every panel of the W block,
//       and the C tile is read and written once per K block, i.e. every ~384 k steps.
//   nc: panels per W block so that kc x nc stays around 1 MiB of the 2 MiB L2: the W block is
//       loaded once per (jc, kb) and reused for every 14-row sliver of the thread's M range.
//   A: packed per (jc, kb, ir) into a thread_local buffer (14 x kc, allocated once per thread,
//       grown as needed): the sliver becomes k-major so the broadcasts are consecutive
//       addresses, and a leading dimension that is a multiple of 4 KiB cannot alias L1 sets.
// Threads: an OpenMP parallel region inside Gemm on the calling thread's team. The M x N plane
// is cut statically into a tm x tn grid of rectangles (whole 14-row slivers by whole 32-column
// panels), the grid chosen by a small cost model (compute + A packing + W streaming per thread):
// small M splits N only (each thread reads a disjoint part of W), large M with many threads
// splits both ways. Tiny problems run on the calling thread alone.
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
