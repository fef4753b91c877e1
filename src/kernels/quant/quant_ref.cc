// The scalar reference of the quantized operators: the oracle the optimized kernels must match
// bit for bit (int8, int4), written as the arithmetic is specified in FORMATS.md.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/quant/formats.h"
#include "kernels/quant/quant_internal.h"
#include "kernels/ref/ops_ref.h"

namespace embody::kernels::quant {

namespace {

// Quantizes x[0, k) into q with the dynamic (per row) or static scale; returns the row's scale.
float QuantizeRow(const float* x, int64_t k, const QuantOptions& o, int8_t* q) {
  float scale, inv;
  if (o.static_activation_scale) {
    scale = o.activation_scale;
    inv = 1.0f / o.activation_scale;
  } else {
    float amax = 0.0f;
    for (int64_t c = 0; c < k; ++c) amax = std::max(amax, std::abs(x[c]));
    scale = RowScale(amax);
    inv = RowInverse(amax);
  }
  for (int64_t c = 0; c < k; ++c) q[c] = static_cast<int8_t>(QuantizeValue(x[c], inv));
  return scale;
}

class RefIntLinear final : public LinearOp {
 public:
  RefIntLinear(const LinearParams& p, const PackedWeights& w, const float* b, const QuantOptions& q)
      : p_(p), q_(q), format_(w.format), blocks_(w.scales_per_row()), scales_(w.scales),
        bias_(b ? std::vector<float>(b, b + p.n) : std::vector<float>(static_cast<size_t>(p.n), 0.0f)),
        w_(static_cast<size_t>(p.n * p.k)), xq_(static_cast<size_t>(p.m * p.k)), row_(static_cast<size_t>(p.n)),
        row_scale_(static_cast<size_t>(p.m)) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
    // Unpack the stored integers (int4 nibbles as q = nibble - 8).
    for (int64_t r = 0; r < p.n; ++r)
      for (int64_t c = 0; c < p.k; ++c) {
        int v;
        if (format_ == WeightFormat::kInt8) {
          v = static_cast<int8_t>(w.data[static_cast<size_t>(r * p.k + c)]);
        } else {
          const uint8_t byte = w.data[static_cast<size_t>(r * w.row_bytes() + c / 2)];
          v = (c % 2 ? byte >> 4 : byte & 0x0f) - 8;
        }
        w_[static_cast<size_t>(r * p.k + c)] = static_cast<int8_t>(v);
      }
  }
  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }
  void RunRows(const float* x, int64_t rows, float* y, const float* res) override {
    const int64_t k = p_.k, n = p_.n;
    for (int64_t i = 0; i < rows; ++i)
      row_scale_[static_cast<size_t>(i)] = QuantizeRow(x + i * p_.ldx, k, q_, xq_.data() + i * k);
    for (int64_t i = 0; i < rows; ++i) {
      const int8_t* xi = xq_.data() + i * k;
      const float sa = row_scale_[static_cast<size_t>(i)];
      for (int64_t j = 0; j < n; ++j) {
        const int8_t* wj = w_.data() + j * k;
        float v;
        if (format_ == WeightFormat::kInt8) {
          int32_t acc = 0;
          for (int64_t c = 0; c < k; ++c) acc += static_cast<int32_t>(xi[c]) * wj[c];
          v = std::fma(static_cast<float>(acc), sa * scales_[static_cast<size_t>(j)], bias_[static_cast<size_t>(j)]);
        } else {
          // int4: exact int32 sum per block of 32, blocks combined in order in float.
          float facc = 0.0f;
          for (int64_t b = 0; b < blocks_; ++b) {
            int32_t acc = 0;
            for (int64_t c = b * kInt4Block; c < std::min(k, (b + 1) * kInt4Block); ++c)
              acc += static_cast<int32_t>(xi[c]) * wj[c];
            facc = std::fma(static_cast<float>(acc), scales_[static_cast<size_t>(j * blocks_ + b)], facc);
          }
          v = std::fma(facc, sa, bias_[static_cast<size_t>(j)]);
        }
        row_[static_cast<size_t>(j)] = v;
      }
      ApplyActivationInPlace(p_.act, row_.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        float v = row_[static_cast<size_t>(j)];
        if (p_.residual) v += res[i * p_.ldr + j];  // res may alias y: same element, read first
        y[i * p_.ldy + j] = v;
      }
    }
  }

 private:
  LinearParams p_;
  QuantOptions q_;
  WeightFormat format_;
  int64_t blocks_;
  std::vector<float> scales_, bias_;
  std::vector<int8_t> w_, xq_;
  std::vector<float> row_, row_scale_;
};

// Direct int8 convolution on NCHW: activations quantized per tensor (u8 for ReLU outputs, s8 for
// a plain image source), exact int32 sums, dst = act(sum * (sa * sw[o]) + bias[o] (+ res)).
class RefIntConv final : public ConvOp {
 public:
  RefIntConv(const ConvParams& p, const PackedWeights& w, const float* b, const QuantOptions& q)
      : p_(p), q_(q), w_(reinterpret_cast<const int8_t*>(w.data.data()),
                         reinterpret_cast<const int8_t*>(w.data.data()) + w.data.size()),
        wscale_(w.scales), bias_(b, b + p.out_c), xq_(static_cast<size_t>(p.in_c * p.in_h * p.in_w)) {}
  size_t src_bytes() const override { return static_cast<size_t>(p_.in_c * p_.in_h * p_.in_w) * 4; }
  size_t dst_bytes() const override { return static_cast<size_t>(p_.out_c * p_.out_h() * p_.out_w()) * 4; }
  void Run(const void* src_v, void* dst_v, const void* res_v) override {
    const auto* src = static_cast<const float*>(src_v);
    auto* dst = static_cast<float*>(dst_v);
    const auto* res = static_cast<const float*>(res_v);
    const int64_t total = p_.in_c * p_.in_h * p_.in_w;
    const bool is_signed = p_.plain_src;
    const float qmax = is_signed ? 127.0f : 255.0f, qmin = is_signed ? -127.0f : 0.0f;
    float scale, inv;
    if (q_.static_activation_scale) {
      scale = q_.activation_scale;
      inv = 1.0f / scale;
    } else {
      float amax = 0;
      for (int64_t i = 0; i < total; ++i) amax = std::max(amax, std::abs(src[i]));
      scale = amax / qmax;
      inv = amax > 0 ? qmax / amax : 0.0f;
    }
    for (int64_t i = 0; i < total; ++i)
      xq_[static_cast<size_t>(i)] = static_cast<int32_t>(std::clamp(std::nearbyint(src[i] * inv), qmin, qmax));
    const int64_t oh = p_.out_h(), ow = p_.out_w(), k = p_.kernel;
    for (int64_t o = 0; o < p_.out_c; ++o) {
      const float s = scale * wscale_[static_cast<size_t>(o)];
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          int32_t acc = 0;
          for (int64_t c = 0; c < p_.in_c; ++c)
            for (int64_t ky = 0; ky < k; ++ky) {
              const int64_t iy = y * p_.stride - p_.pad + ky;
              if (iy < 0 || iy >= p_.in_h) continue;
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t ix = x * p_.stride - p_.pad + kx;
                if (ix < 0 || ix >= p_.in_w) continue;
                acc += xq_[static_cast<size_t>((c * p_.in_h + iy) * p_.in_w + ix)] *
                       w_[static_cast<size_t>(((o * p_.in_c + c) * k + ky) * k + kx)];
              }
            }
          const int64_t idx = (o * oh + y) * ow + x;
          float v = std::fma(static_cast<float>(acc), s, bias_[static_cast<size_t>(o)]);
          if (p_.residual) v += res[idx];
          dst[idx] = p_.relu ? std::max(v, 0.0f) : v;
        }
    }
  }

 private:
  ConvParams p_;
  QuantOptions q_;
  std::vector<int8_t> w_;
  std::vector<float> wscale_, bias_;
  std::vector<int32_t> xq_;
};

}  // namespace

std::unique_ptr<LinearOp> MakeRefLinear(const LinearParams& p, const PackedWeights& w, const float* bias,
                                        const QuantOptions& q) {
  if (w.format == WeightFormat::kInt8 || w.format == WeightFormat::kInt4)
    return std::make_unique<RefIntLinear>(p, w, bias, q);
  std::vector<float> f(static_cast<size_t>(w.n * w.k));
  DequantizeWeights(w, f.data());
  return ref::MakeLinear(p, f.data(), bias);
}

std::unique_ptr<ConvOp> MakeRefConv(const ConvParams& p, const PackedWeights& w, const float* bias,
                                    const QuantOptions& q) {
  return std::make_unique<RefIntConv>(p, w, bias, q);
}

}  // namespace embody::kernels::quant
