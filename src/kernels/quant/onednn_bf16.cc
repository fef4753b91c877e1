// bf16 linear on oneDNN 2.6's bf16 matmul (AMX tiles on Sapphire Rapids, AVX512-BF16 dot products
// on Cooper Lake / Zen 4): the weights stay in bfloat16 from the file to the kernel (half the f32
// bytes to stream, which is what the memory-bound layers pay for), each activation row is rounded
// to bf16 (round to nearest even), the products accumulate in f32, and embody's epilogue adds the
// bias, the activation and the residual in f32.
//
// Rows: one primitive per row bucket, as the int8 linear (onednn_row_buckets.h).
//
// CPUs whose oneDNN has only the reference bf16 matmul (no AVX512-BF16/AMX) get Unimplemented,
// and MakeQuantizedLinear widens the weights to f32 instead (faster there than emulated bf16).
#include <omp.h>

#include <algorithm>
#include <dnnl.hpp>
#include <string>
#include <vector>

#include "kernels/arch/avx512/bf16_avx512.h"
#include "kernels/elementwise.h"
#include "kernels/onednn/dnnl_util.h"
#include "kernels/quant/onednn_row_buckets.h"
#include "kernels/quant/quant_internal.h"

namespace embody::kernels::quant {

namespace {

using dt = dnnl::memory::data_type;
using dnnl_util::Guard;

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
      op->matmul_.Build(p.m, p.k, p.n, dt::bf16, dt::bf16, dt::f32, w.data.data());
      const std::string& impl = op->matmul_.implementation();
      if (impl.find("ref") != std::string::npos)
        return Unimplemented("bf16 linear: oneDNN has only its reference bf16 matmul on this CPU (" + impl + ")");
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
    matmul_.Run(rows, a_.data(), acc_.data());
    FinishRows(p_, acc_.data(), rows, n, bias_.data(), res, y);
  }

 private:
  static void ToBf16(const float* x, int64_t k, uint16_t* out) {
    static const bool avx512 = avx512::Bf16Available();
    if (avx512) {
      avx512::ConvertToBf16(x, k, out);
    } else {
      ConvertToBf16Reference(x, k, out);
    }
  }
  explicit OneDnnBf16Linear(const LinearParams& p) : p_(p) {}
  LinearParams p_;
  RowBucketedMatmul matmul_;
  std::vector<uint16_t> a_;
  std::vector<float> acc_, bias_;
};

}  // namespace

Result<std::unique_ptr<LinearOp>> MakeOneDnnBf16Linear(const LinearParams& p, const PackedWeights& w,
                                                       const float* bias) {
  return OneDnnBf16Linear::Create(p, w, bias);
}

}  // namespace embody::kernels::quant
