// bf16 linear on oneDNN 2.6's bf16 matmul (AMX tiles on Sapphire Rapids, AVX512-BF16 dot products
// on Cooper Lake / Zen 4): the weights stay in bfloat16 from the file to the kernel (half the f32
// bytes to stream, which is what the memory-bound layers pay for), each activation row is rounded
// to bf16 (round to nearest even), the products accumulate in f32, and embody's epilogue adds the
// bias, the activation and the residual in f32.
//
// Rows: as the int8 linear (onednn_int8.cc), AMX kernels need M fixed at creation, so one
// primitive per M = p.m and its halvings down to 32 rows shares one packed weight layout; RunRows
// picks the smallest that covers the rows (the extra rows hold stale data, their outputs are
// ignored).
//
// CPUs whose oneDNN has only the reference bf16 matmul (no AVX512-BF16/AMX) get Unimplemented,
// and MakeQuantizedLinear widens the weights to f32 instead (faster there than emulated bf16).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/arch/avx512/bf16_avx512.h"
#include "kernels/elementwise.h"
#include "kernels/onednn/dnnl_util.h"
#include "kernels/quant/quant_internal.h"

namespace embody::kernels::quant {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;
using dnnl_util::Engine;
using dnnl_util::Guard;
using dnnl_util::OwnScratchpad;
using dnnl_util::Scratchpad;

class OneDnnBf16Linear final : public LinearOp {
 public:
  static Result<std::unique_ptr<LinearOp>> Create(LinearParams p, const PackedWeights& w, const float* bias) {
    return Guard("bf16 linear", [&]() -> Result<std::unique_ptr<LinearOp>> {
      if (!p.ldx) p.ldx = p.k;
      if (!p.ldy) p.ldy = p.n;
      if (!p.ldr) p.ldr = p.n;
      auto op = std::unique_ptr<OneDnnBf16Linear>(new OneDnnBf16Linear(p));
      op->bias_.assign(static_cast<size_t>(p.n), 0.0f);
      if (bias) std::copy(bias, bias + p.n, op->bias_.begin());
      const memory::desc w_user({p.k, p.n}, dt::bf16, tag::ba);  // [n, k] row-major
      memory::desc w_md;
      for (int64_t m = p.m; m >= 1; m = m > 32 ? (m + 1) / 2 : 0) {
        const memory::desc a_md({m, p.k}, dt::bf16, tag::ab), c_md({m, p.n}, dt::f32, tag::ab);
        const memory::desc w_want = w_md ? w_md : memory::desc({p.k, p.n}, dt::bf16, tag::any);
        dnnl::matmul::primitive_desc pd;
        try {
          pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, w_want, c_md), OwnScratchpad(), Engine());
        } catch (const dnnl::error&) {
          if (m == p.m) throw;
          continue;  // no kernel for this M on the first M's weight layout: a larger one serves
        }
        if (!w_md) {
          const std::string impl = pd.impl_info_str();
          if (impl.find("ref") != std::string::npos)
            return Unimplemented("bf16 linear: oneDNN has only its reference bf16 matmul on this CPU (" + impl + ")");
          w_md = pd.weights_desc();
        }
        op->buckets_.push_back({m, dnnl::matmul(pd), memory(a_md, Engine(), DNNL_MEMORY_NONE),
                                memory(c_md, Engine(), DNNL_MEMORY_NONE), Scratchpad(pd.scratchpad_desc())});
      }
      memory user(w_user, Engine(), const_cast<uint8_t*>(w.data.data()));
      op->weights_ = memory(w_md, Engine());
      dnnl::reorder(user, op->weights_).execute(op->stream_, user, op->weights_);
      op->stream_.wait();
      for (Bucket& b : op->buckets_) {
        b.args = {{DNNL_ARG_SRC, b.a}, {DNNL_ARG_WEIGHTS, op->weights_}, {DNNL_ARG_DST, b.c}};
        if (b.scratch) b.args[DNNL_ARG_SCRATCHPAD] = b.scratch;
      }
      op->a_.resize(static_cast<size_t>(p.m * p.k));
      op->acc_.resize(static_cast<size_t>(p.m * p.n));
      return std::unique_ptr<LinearOp>(std::move(op));
    });
  }
  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }
  void RunRows(const float* x, int64_t rows, float* y, const float* res) override {
    if (rows <= 0) return;
    const int64_t k = p_.k, n = p_.n;
#pragma omp parallel for schedule(static) if (rows * k > 32768)
    for (int64_t i = 0; i < rows; ++i) ToBf16(x + i * p_.ldx, k, a_.data() + i * k);
    Bucket* b = &buckets_.front();
    for (auto& c : buckets_)
      if (c.m >= rows && c.m < b->m) b = &c;
    b->a.set_data_handle(a_.data());
    b->c.set_data_handle(acc_.data());
    b->prim.execute(stream_, b->args);
    stream_.wait();
#pragma omp parallel for schedule(static) if (rows * n > 32768)
    for (int64_t i = 0; i < rows; ++i) {
      float* row = acc_.data() + i * n;
      for (int64_t j = 0; j < n; ++j) row[j] += bias_[static_cast<size_t>(j)];
      ApplyActivationInPlace(p_.act, row, n);
      float* yi = y + i * p_.ldy;
      if (p_.residual) {
        const float* ri = res + i * p_.ldr;  // may alias yi
        for (int64_t j = 0; j < n; ++j) yi[j] = row[j] + ri[j];
      } else {
        std::memcpy(yi, row, static_cast<size_t>(n) * 4);
      }
    }
  }

 private:
  struct Bucket {
    int64_t m;
    dnnl::primitive prim;
    memory a, c, scratch;
    std::unordered_map<int, memory> args;  // bound at creation: Run never allocates
  };
  static void ToBf16(const float* x, int64_t k, uint16_t* out) {
    static const bool avx512 = avx512::Bf16Available();
    if (avx512) {
      avx512::ConvertToBf16(x, k, out);
    } else {
      ConvertToBf16Reference(x, k, out);
    }
  }
  explicit OneDnnBf16Linear(const LinearParams& p) : p_(p), stream_(Engine()) {}
  LinearParams p_;
  dnnl::stream stream_;
  std::vector<Bucket> buckets_;
  memory weights_;
  std::vector<uint16_t> a_;
  std::vector<float> acc_, bias_;
};

}  // namespace

Result<std::unique_ptr<LinearOp>> MakeOneDnnBf16Linear(const LinearParams& p, const PackedWeights& w,
                                                       const float* bias) {
  return OneDnnBf16Linear::Create(p, w, bias);
}

}  // namespace embody::kernels::quant
