#include "kernels/fast_linear.h"

#include <cstring>
#include <vector>

#include "kernels/arch/avx512/sgemm_avx512.h"
#include "kernels/elementwise.h"

namespace embody::kernels {

namespace {

class Avx512Linear final : public LinearOp {
 public:
  Avx512Linear(LinearParams p, const float* w, const float* b) : p_(p), packed_(avx512::PackedWeights::Pack(w, p.n, p.k)) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
    if (b) bias_.assign(b, b + p_.n);
  }
  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }
  void RunRows(const float* x, int64_t rows, float* y, const float* r) override {
    if (rows <= 0) return;
    const bool residual = p_.residual;
    if (residual && p_.act != Activation::kNone) {
      // act(xW + b) + r: compute into y, then add r (r may not alias y here).
      avx512::Gemm(x, rows, p_.ldx, packed_, bias_.empty() ? nullptr : bias_.data(), false, y, p_.ldy);
      Epilogue(y, rows);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < p_.n; ++j) y[i * p_.ldy + j] += r[i * p_.ldr + j];
      return;
    }
    if (residual && r != y)
      for (int64_t i = 0; i < rows; ++i) std::memcpy(y + i * p_.ldy, r + i * p_.ldr, static_cast<size_t>(p_.n) * 4);
    avx512::Gemm(x, rows, p_.ldx, packed_, bias_.empty() ? nullptr : bias_.data(), residual, y, p_.ldy);
    Epilogue(y, rows);
  }

 private:
  void Epilogue(float* y, int64_t rows) {
    if (p_.act == Activation::kNone) return;
    const int64_t n = p_.n, ldy = p_.ldy;
    const Activation act = p_.act;
#pragma omp parallel for schedule(static) if (rows * n > 65536)
    for (int64_t i = 0; i < rows; ++i) ApplyActivationInPlace(act, y + i * ldy, n);
  }

  LinearParams p_;
  avx512::PackedWeights packed_;
  std::vector<float> bias_;
};

}  // namespace

std::unique_ptr<LinearOp> MakeAvx512Linear(const LinearParams& p, const float* weight, const float* bias) {
  if (!avx512::Available()) return nullptr;
  return std::make_unique<Avx512Linear>(p, weight, bias);
}

}  // namespace embody::kernels
