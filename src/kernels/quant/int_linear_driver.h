// The integer linear layer shared by every SIMD family: activation quantization into the
// micro-kernel's sliver layout, weight repacking into its panel layout, threading, cache blocking
// and the float epilogue. Each family (arch/x86/*, arch/arm/*) supplies a micro-kernel trait and
// includes this header INSIDE its `#pragma GCC target` region, so the whole driver (the
// quantization and epilogue loops too) is compiled for that family's instructions.
//
// Trait K:
//   using AType = uint8_t | int8_t | int16_t;   // activation element the kernel reads
//   static constexpr int kMr, kNr;                // rows x columns of C per micro-kernel call
//   static constexpr int kKg;                     // k per group (4: dpbusd/sdot, 2: pmaddwd)
//   static constexpr int kAOffset;                // added to q (128 turns s8 into u8 for dpbusd)
//   template <int MR> static void Tile(const AType* a, const int8_t* w, int64_t groups, int32_t* c);
//     c[r * kNr + j] = sum over groups g and t < kKg of a[(g * MR + r) * kKg + t] * w[(g * kNr + j) * kKg + t]
//     (overwrites c; MR in 1..kMr).
//   static const char* Name();
//
// Layouts (internal; repacked at creation, never stored):
//   A: rows in slivers of kMr; sliver s holds rows [s kMr, s kMr + mr) as [group][mr][kKg], k
//      padded with q = 0 to kp (a multiple of 32, which is a multiple of kKg).
//   W: panels of kNr output columns as [group][kNr][kKg] int8 (columns past n and k past the
//      matrix are 0). int4 weights stay 4-bit in memory (two per byte, same panel order) and are
//      widened to int8 per W block into a per-thread scratch just before use.
// Exactness: the int32 sums equal the reference's (u8 offset removed with a per-column
// compensation 128 * sum_k w, computed per int4 block for int4), and the float epilogue performs
// the same operations in the same order as quant_ref.cc: bit-identical results.
//
// Blocking, per thread, loop order jc -> sliver -> panel: a W block of nc panels (about 1 MiB of
// int8) stays in L2 while every sliver of the thread's rows passes over it; the sliver (kMr x kp
// bytes, <= 45 KiB for kp = 3200) is reused from L1/L2 across the block's panels. No K blocking:
// the int32 accumulators run over the whole of k (exact; |sum| < 2^31 for k < 66000).
// Threads: one OpenMP region per call; rows are quantized in parallel, then the M x N plane is
// cut into a tm x tn grid of whole slivers x whole panels.
#pragma once

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/quant/formats.h"
#include "kernels/quant/quant_linear.h"

namespace embody::kernels::quant {

// A zero-initialized buffer on 64-byte boundaries (whole cache lines for the SIMD loads).
template <class T>
class AlignedBuffer {
 public:
  void resize(size_t n) {
    const size_t bytes = (std::max<size_t>(n, 1) * sizeof(T) + 63) / 64 * 64;
    p_.reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
    if (!p_) throw std::bad_alloc();
    std::memset(static_cast<void*>(p_.get()), 0, bytes);
    n_ = n;
  }
  size_t size() const { return n_; }
  T* data() { return p_.get(); }
  const T* data() const { return p_.get(); }
  T& operator[](size_t i) { return p_[i]; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T[], Free> p_;
  size_t n_ = 0;
};

template <class K>
class IntLinear final : public LinearOp {
 public:
  using AType = typename K::AType;
  static constexpr int kMr = K::kMr, kNr = K::kNr, kKg = K::kKg;
  static constexpr int64_t kWBlockBytes = 1 << 20;
  static int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

  IntLinear(const LinearParams& p, const PackedWeights& w, const float* bias, const QuantOptions& q)
      : p_(p), q_(q), int4_(w.format == WeightFormat::kInt4) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
    kp_ = CeilDiv(p_.k, kInt4Block) * kInt4Block;
    groups_ = kp_ / kKg;
    panels_ = CeilDiv(p_.n, kNr);
    const int64_t ncols = panels_ * kNr;
    bias_.assign(static_cast<size_t>(ncols), 0.0f);
    if (bias) std::copy(bias, bias + p_.n, bias_.begin());
    blocks_ = kp_ / kInt4Block;
    PackWeights(w);
    nc_ = std::max<int64_t>(1, kWBlockBytes / (kp_ * kNr));
    nc_ = CeilDiv(panels_, CeilDiv(panels_, nc_));  // equal W blocks
    slivers_ = CeilDiv(p_.m, kMr);
    a_.resize(static_cast<size_t>(slivers_ * kMr * kp_));
    row_scale_.resize(static_cast<size_t>(slivers_ * kMr));
    threads_ = std::max(1, omp_get_max_threads());
    scratch_.resize(static_cast<size_t>(threads_));
    for (auto& s : scratch_) {
      s.tile.resize(kMr * kNr);
      s.facc.resize(kMr * kNr);
      s.row.resize(kNr);
      if (int4_) s.wblock.resize(static_cast<size_t>(nc_ * kp_ * kNr));
    }
  }

  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }

  void RunRows(const float* x, int64_t rows, float* y, const float* res) override {
    if (rows <= 0) return;
    const int64_t slivers = CeilDiv(rows, kMr);
    // Below ~2 M multiply-adds per thread the fork/join outweighs the split.
    const double macs = static_cast<double>(rows) * static_cast<double>(p_.n) * static_cast<double>(p_.k);
    int threads = std::min(threads_, std::max(1, omp_get_max_threads()));
    threads = static_cast<int>(std::clamp(macs / 2e6, 1.0, static_cast<double>(threads)));
    const Grid g = ChooseGrid(slivers, threads);
    const int used = g.tm * g.tn;
    auto work = [&](int t, int nt) {
      // 1. quantize this thread's share of the slivers
      for (int64_t s = slivers * t / nt; s < slivers * (t + 1) / nt; ++s) QuantizeSliver(x, rows, s);
    };
    auto gemm = [&](int t) {
      const int ti = t / g.tn, tj = t % g.tn;
      RunRect(slivers * ti / g.tm, slivers * (ti + 1) / g.tm, panels_ * tj / g.tn, panels_ * (tj + 1) / g.tn,
              rows, y, res, scratch_[static_cast<size_t>(t)]);
    };
    if (used == 1) {
      work(0, 1);
      gemm(0);
      return;
    }
#pragma omp parallel num_threads(used)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      work(t, nt);
#pragma omp barrier
      if (nt == used) {
        gemm(t);
      } else if (t == 0) {  // fewer threads than asked (nested region): do it all here
        for (int i = 0; i < used; ++i) gemm(i);
      }
    }
  }

 private:
  struct Grid {
    int tm = 1, tn = 1;
  };
  struct Scratch {
    std::vector<int32_t> tile;
    std::vector<float> facc, row;
    AlignedBuffer<int8_t> wblock;  // int4: the current W block widened to int8
  };

  // Per-thread cost in multiply-adds: compute, re-reading A once per W block, streaming W.
  Grid ChooseGrid(int64_t slivers, int threads) const {
    Grid best;
    double best_cost = -1;
    for (int tm = 1; tm <= threads; ++tm) {
      if (threads % tm) continue;
      const int tn = threads / tm;
      if (slivers < tm || panels_ < tn) continue;
      const double rows = static_cast<double>(CeilDiv(slivers, tm) * kMr);
      const double cols = static_cast<double>(CeilDiv(panels_, tn) * kNr);
      const double k = static_cast<double>(kp_);
      const double cost = rows * cols * k / 64.0 + rows * k * std::ceil(cols / (nc_ * kNr)) + cols * k / 2.0;
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best = Grid{tm, tn};
      }
    }
    if (best_cost < 0) best = slivers >= threads ? Grid{threads, 1} : Grid{1, std::min<int>(threads, panels_)};
    return best;
  }

  void PackWeights(const PackedWeights& w) {
    const int64_t n = p_.n, k = p_.k;
    wscale_.assign(static_cast<size_t>(panels_ * kNr * (int4_ ? blocks_ : 1)), 0.0f);
    comp_.assign(wscale_.size(), 0);
    // int8: packed[p][g][j][t]; int4: the same order, two consecutive elements per byte.
    const int64_t panel_elems = groups_ * kNr * kKg;
    std::vector<int8_t> full(static_cast<size_t>(panels_ * panel_elems), 0);
    for (int64_t col = 0; col < n; ++col) {
      const int64_t pn = col / kNr, j = col % kNr;
      for (int64_t c = 0; c < k; ++c) {
        int v;
        if (!int4_) {
          v = static_cast<int8_t>(w.data[static_cast<size_t>(col * k + c)]);
        } else {
          const uint8_t byte = w.data[static_cast<size_t>(col * w.row_bytes() + c / 2)];
          v = (c % 2 ? byte >> 4 : byte & 0x0f) - 8;
        }
        full[static_cast<size_t>(pn * panel_elems + ((c / kKg) * kNr + j) * kKg + c % kKg)] = static_cast<int8_t>(v);
      }
      // Scales and the u8 compensation, laid out [block][panel * kNr + j] for int4.
      if (!int4_) {
        int32_t sum = 0;
        for (int64_t c = 0; c < k; ++c) sum += static_cast<int8_t>(w.data[static_cast<size_t>(col * k + c)]);
        wscale_[static_cast<size_t>(col)] = w.scales[static_cast<size_t>(col)];
        comp_[static_cast<size_t>(col)] = K::kAOffset * sum;
      } else {
        for (int64_t b = 0; b < blocks_; ++b) {
          int32_t sum = 0;
          for (int64_t c = b * kInt4Block; c < std::min(k, (b + 1) * kInt4Block); ++c)
            sum += full[static_cast<size_t>(pn * panel_elems + ((c / kKg) * kNr + j) * kKg + c % kKg)];
          const size_t idx = static_cast<size_t>(b * panels_ * kNr + col);
          wscale_[idx] = w.scales[static_cast<size_t>(col * blocks_ + b)];
          comp_[idx] = K::kAOffset * sum;
        }
      }
    }
    if (!int4_) {
      w8_.resize(full.size());
      std::memcpy(w8_.data(), full.data(), full.size());
    } else {
      w4_.resize(full.size() / 2);
      for (size_t i = 0; i < w4_.size(); ++i)
        w4_[i] = static_cast<uint8_t>((full[2 * i] & 0x0f) | ((full[2 * i + 1] & 0x0f) << 4));
    }
  }

  // Quantizes rows of sliver s into a_ (rows past `rows` are not touched: the sliver is shorter).
  void QuantizeSliver(const float* x, int64_t rows, int64_t s) {
    const int64_t r0 = s * kMr, mr = std::min<int64_t>(kMr, rows - r0);
    AType* dst = a_.data() + s * kMr * kp_;
    const int64_t k = p_.k;
    for (int64_t r = 0; r < mr; ++r) {
      const float* xr = x + (r0 + r) * p_.ldx;
      float scale, inv;
      if (q_.static_activation_scale) {
        scale = q_.activation_scale;
        inv = 1.0f / q_.activation_scale;
      } else {
        float amax = 0.0f;
        for (int64_t c = 0; c < k; ++c) amax = std::max(amax, std::abs(xr[c]));
        scale = RowScale(amax);
        inv = RowInverse(amax);
      }
      row_scale_[static_cast<size_t>(r0 + r)] = scale;
      // [group][mr][kKg]: element c of row r at (c / kKg) * mr * kKg + r * kKg + c % kKg.
      const int64_t kfull = k / kKg * kKg;
      for (int64_t g = 0; g < kfull / kKg; ++g)
        for (int t = 0; t < kKg; ++t)
          dst[(g * mr + r) * kKg + t] = static_cast<AType>(QuantizeValue(xr[g * kKg + t], inv) + K::kAOffset);
      for (int64_t c = kfull; c < kp_; ++c)
        dst[((c / kKg) * mr + r) * kKg + c % kKg] =
            static_cast<AType>((c < k ? QuantizeValue(xr[c], inv) : 0) + K::kAOffset);
    }
  }

  template <int MR>
  static void TileFn(const AType* a, const int8_t* w, int64_t groups, int32_t* c) {
    K::template Tile<MR>(a, w, groups, c);
  }
  using TileFnPtr = void (*)(const AType*, const int8_t*, int64_t, int32_t*);
  template <int... R>
  static constexpr std::array<TileFnPtr, sizeof...(R)> MakeTiles(std::integer_sequence<int, R...>) {
    return {&TileFn<R + 1>...};
  }
  static constexpr std::array<TileFnPtr, kMr> kTiles = MakeTiles(std::make_integer_sequence<int, kMr>{});

  // Widens panels [p0, p1) of int4 weights into dst ([panel - p0][group][kNr][kKg] int8).
  void WidenBlock(int64_t p0, int64_t p1, int8_t* dst) const {
    const int64_t bytes = (p1 - p0) * groups_ * kNr * kKg / 2;
    const uint8_t* src = w4_.data() + p0 * groups_ * kNr * kKg / 2;
    for (int64_t i = 0; i < bytes; ++i) {
      // Sign-extend each nibble (stored two's complement, 4 bits).
      dst[2 * i] = static_cast<int8_t>(static_cast<int8_t>(src[i] << 4) >> 4);
      dst[2 * i + 1] = static_cast<int8_t>(static_cast<int8_t>(src[i] & 0xf0) >> 4);
    }
  }

  void RunRect(int64_t s0, int64_t s1, int64_t p0, int64_t p1, int64_t rows, float* y, const float* res,
               Scratch& sc) {
    if (s0 >= s1 || p0 >= p1) return;
    for (int64_t jc = p0; jc < p1; jc += nc_) {
      const int64_t je = std::min(p1, jc + nc_);
      if (int4_) WidenBlock(jc, je, sc.wblock.data());
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t r0 = s * kMr;
        const int mr = static_cast<int>(std::min<int64_t>(kMr, rows - r0));
        const AType* a = a_.data() + s * kMr * kp_;
        for (int64_t pn = jc; pn < je; ++pn) {
          const int ncols = static_cast<int>(std::min<int64_t>(kNr, p_.n - pn * kNr));
          if (!int4_) {
            kTiles[mr - 1](a, w8_.data() + pn * groups_ * kNr * kKg, groups_, sc.tile.data());
            EpilogueInt8(sc, r0, mr, pn, ncols, y, res);
          } else {
            const int8_t* wp = sc.wblock.data() + (pn - jc) * groups_ * kNr * kKg;
            constexpr int64_t kGroupsPerBlock = kInt4Block / kKg;
            std::fill(sc.facc.begin(), sc.facc.end(), 0.0f);
            for (int64_t b = 0; b < blocks_; ++b) {
              kTiles[mr - 1](a + b * kGroupsPerBlock * mr * kKg, wp + b * kGroupsPerBlock * kNr * kKg,
                             kGroupsPerBlock, sc.tile.data());
              const float* ws = wscale_.data() + b * panels_ * kNr + pn * kNr;
              const int32_t* cp = comp_.data() + b * panels_ * kNr + pn * kNr;
              for (int r = 0; r < mr; ++r) {
                const int32_t* t = sc.tile.data() + r * kNr;
                float* f = sc.facc.data() + r * kNr;
                for (int j = 0; j < kNr; ++j) f[j] = std::fma(static_cast<float>(t[j] - cp[j]), ws[j], f[j]);
              }
            }
            EpilogueInt4(sc, r0, mr, pn, ncols, y, res);
          }
        }
      }
    }
  }

  // Activation, residual and the store of one row segment held in sc.row.
  void Finish(Scratch& sc, int64_t row, int64_t col0, int ncols, float* y, const float* res) const {
    if (p_.act != Activation::kNone) ApplyActivationInPlace(p_.act, sc.row.data(), ncols);
    float* yr = y + row * p_.ldy + col0;
    if (p_.residual) {
      const float* rr = res + row * p_.ldr + col0;  // may alias yr: each element read before written
      for (int j = 0; j < ncols; ++j) yr[j] = sc.row[static_cast<size_t>(j)] + rr[j];
    } else {
      std::memcpy(yr, sc.row.data(), static_cast<size_t>(ncols) * sizeof(float));
    }
  }

  void EpilogueInt8(Scratch& sc, int64_t r0, int mr, int64_t pn, int ncols, float* y, const float* res) const {
    const int64_t col0 = pn * kNr;
    const float* ws = wscale_.data() + col0;
    const int32_t* cp = comp_.data() + col0;
    const float* b = bias_.data() + col0;
    for (int r = 0; r < mr; ++r) {
      const float sa = row_scale_[static_cast<size_t>(r0 + r)];
      const int32_t* t = sc.tile.data() + r * kNr;
      float* out = sc.row.data();
      for (int j = 0; j < kNr; ++j) out[j] = std::fma(static_cast<float>(t[j] - cp[j]), sa * ws[j], b[j]);
      Finish(sc, r0 + r, col0, ncols, y, res);
    }
  }

  void EpilogueInt4(Scratch& sc, int64_t r0, int mr, int64_t pn, int ncols, float* y, const float* res) const {
    const int64_t col0 = pn * kNr;
    const float* b = bias_.data() + col0;
    for (int r = 0; r < mr; ++r) {
      const float sa = row_scale_[static_cast<size_t>(r0 + r)];
      const float* f = sc.facc.data() + r * kNr;
      float* out = sc.row.data();
      for (int j = 0; j < kNr; ++j) out[j] = std::fma(f[j], sa, b[j]);
      Finish(sc, r0 + r, col0, ncols, y, res);
    }
  }

  LinearParams p_;
  QuantOptions q_;
  bool int4_;
  int64_t kp_ = 0, groups_ = 0, panels_ = 0, blocks_ = 1, nc_ = 1, slivers_ = 0;
  int threads_ = 1;
  AlignedBuffer<int8_t> w8_;
  AlignedBuffer<uint8_t> w4_;
  std::vector<float> wscale_, bias_;
  std::vector<int32_t> comp_;
  AlignedBuffer<AType> a_;
  std::vector<float> row_scale_;
  std::vector<Scratch> scratch_;
};

}  // namespace embody::kernels::quant
