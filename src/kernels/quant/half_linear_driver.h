// The f16 linear layer shared by the half-precision SIMD families (arch/arm/hgemm_neon.cc,
// arch/x86/hgemm_avx512fp16.cc): weight repacking into the micro-kernel's panels, activation rows
// rounded to f16 into its slivers, threads, and the f32 epilogue. Each family supplies a
// micro-kernel trait and includes this header INSIDE its `#pragma GCC target` region, so the
// conversions are compiled for its instructions too (as int_linear_driver.h).
//
// Trait K:
//   using Half = float16_t | _Float16;  // the family's half-precision type
//   static constexpr int kMr, kNr;       // rows x columns of C per micro-kernel call
//   static void Tile(const Half* a, const Half* w, int64_t k, float* c);
//     c[r * kNr + j] = sum over t < k of a[t * kMr + r] * w[t * kNr + j] (overwrites c), with
//     f16 products and partial sums returned to f32 every kKBlock steps (the kernel's business).
//
// Why f16 partial sums return to f32: summing a whole row in f16 (as f16-only GEMMs do) would
// round every partial sum to 11 bits and let the error grow with k (3200 for ACT's
// feed-forward); blocks of 16 steps bound the f16 part to a few ulps of a 16-term sum.
//
// Layouts (built at creation / per call, no allocation in Run):
//   weights: panels of kNr columns, k-major: panel p holds w[kNr p + j][t] at [t * kNr + j],
//            columns past n zero;
//   activations: per kMr-row sliver, k-major: row r's element t at [t * kMr + r], rows past the
//            call's zero.
// Activations beyond the f16 range (|x| > 65504) overflow to infinity: such layers belong in
// bf16 or f32 (FORMATS.md).
#pragma once

#include <omp.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/quant/quant_internal.h"

namespace embody::kernels::quant {

inline constexpr int kHalfKBlock = 16;

template <typename K>
class HalfLinear final : public LinearOp {
 public:
  using Half = typename K::Half;

  HalfLinear(const LinearParams& p, const PackedWeights& w, const float* bias) : p_(p) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
    const int64_t n = p_.n, k = p_.k;
    panels_ = (n + K::kNr - 1) / K::kNr;
    weights_.assign(static_cast<size_t>(panels_ * K::kNr * k), Half(0));
    // Bit copies: the file's binary16 values are the kernel's halves.
    const auto* stored = reinterpret_cast<const uint16_t*>(w.data.data());
    auto* packed = reinterpret_cast<uint16_t*>(weights_.data());
    for (int64_t j = 0; j < n; ++j)
      for (int64_t t = 0; t < k; ++t) packed[(j / K::kNr) * K::kNr * k + t * K::kNr + j % K::kNr] = stored[j * k + t];
    bias_.assign(static_cast<size_t>(n), 0.0f);
    if (bias) std::memcpy(bias_.data(), bias, static_cast<size_t>(n) * sizeof(float));
    const int64_t slivers = (p_.m + K::kMr - 1) / K::kMr;
    a_.assign(static_cast<size_t>(slivers * K::kMr * k), Half(0));
    c_.assign(static_cast<size_t>(slivers * K::kMr * panels_ * K::kNr), 0.0f);
  }

  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }

  void RunRows(const float* x, int64_t rows, float* y, const float* res) override {
    if (rows <= 0) return;
    const int64_t k = p_.k, n = p_.n, slivers = (rows + K::kMr - 1) / K::kMr, cols = panels_ * K::kNr;
#pragma omp parallel for schedule(static) if (rows * k > 32768)
    for (int64_t s = 0; s < slivers; ++s) {
      Half* as = a_.data() + s * K::kMr * k;
      for (int r = 0; r < K::kMr; ++r) {
        const int64_t row = s * K::kMr + r;
        if (row >= rows) {
          for (int64_t t = 0; t < k; ++t) as[t * K::kMr + r] = Half(0);
          continue;
        }
        const float* xr = x + row * p_.ldx;
        for (int64_t t = 0; t < k; ++t) as[t * K::kMr + r] = static_cast<Half>(xr[t]);
      }
    }
#pragma omp parallel for collapse(2) schedule(static) if (rows * n * k > 262144)
    for (int64_t s = 0; s < slivers; ++s)
      for (int64_t pnl = 0; pnl < panels_; ++pnl) {
        alignas(64) float tile[K::kMr * K::kNr];
        K::Tile(a_.data() + s * K::kMr * k, weights_.data() + pnl * K::kNr * k, k, tile);
        for (int r = 0; r < K::kMr; ++r)
          std::memcpy(c_.data() + (s * K::kMr + r) * cols + pnl * K::kNr, tile + r * K::kNr, sizeof(float) * K::kNr);
      }
    FinishRows(p_, c_.data(), rows, cols, bias_.data(), res, y);
  }

 private:
  LinearParams p_;
  int64_t panels_ = 0;
  std::vector<Half> weights_, a_;
  std::vector<float> c_, bias_;
};

}  // namespace embody::kernels::quant
