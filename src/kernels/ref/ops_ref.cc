#include "kernels/ref/ops_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace embody::kernels::ref {

float ApplyActivation(Activation act, float x) {
  switch (act) {
    case Activation::kRelu: return x > 0.0f ? x : 0.0f;
    case Activation::kGelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case Activation::kGeluTanh:
      return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case Activation::kSilu: return x / (1.0f + std::exp(-x));
    case Activation::kNone: break;
  }
  return x;
}

namespace {

class RefLinear final : public LinearOp {
 public:
  RefLinear(const LinearParams& p, const float* w, const float* b)
      : p_(p), w_(w, w + p.n * p.k), b_(b ? std::vector<float>(b, b + p.n) : std::vector<float>(p.n, 0.0f)) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
  }
  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }
  void RunRows(const float* x, int64_t rows, float* y, const float* r) override {
    for (int64_t i = 0; i < rows; ++i) {
      const float* xi = x + i * p_.ldx;
      for (int64_t j = 0; j < p_.n; ++j) {
        const float* wj = w_.data() + j * p_.k;
        double acc = 0.0;
        for (int64_t t = 0; t < p_.k; ++t) acc += static_cast<double>(xi[t]) * wj[t];
        float v = ApplyActivation(p_.act, static_cast<float>(acc) + b_[static_cast<size_t>(j)]);
        if (p_.residual) v += r[i * p_.ldr + j];
        y[i * p_.ldy + j] = v;
      }
    }
  }

 private:
  LinearParams p_;
  std::vector<float> w_, b_;
};

class RefAttention final : public AttentionOp {
 public:
  explicit RefAttention(const AttentionParams& p) : p_(p), scores_(static_cast<size_t>(p.sk)) {}
  void Run(const float* q, const float* k, const float* v, float* out) override {
    const int64_t d = p_.head_dim;
    for (int64_t h = 0; h < p_.heads; ++h) {
      for (int64_t i = 0; i < p_.sq; ++i) {
        const float* qi = q + i * p_.ldq + h * d;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < p_.sk; ++j) {
          const float* kj = k + j * p_.ldk + h * d;
          double acc = 0.0;
          for (int64_t t = 0; t < d; ++t) acc += static_cast<double>(qi[t]) * kj[t];
          scores_[static_cast<size_t>(j)] = acc * p_.scale;
          mx = std::max(mx, scores_[static_cast<size_t>(j)]);
        }
        double sum = 0.0;
        for (auto& s : scores_) sum += (s = std::exp(s - mx));
        float* oi = out + i * p_.ldo + h * d;
        for (int64_t t = 0; t < d; ++t) {
          double acc = 0.0;
          for (int64_t j = 0; j < p_.sk; ++j) acc += scores_[static_cast<size_t>(j)] * v[j * p_.ldv + h * d + t];
          oi[t] = static_cast<float>(acc / sum);
        }
      }
    }
  }

 private:
  AttentionParams p_;
  std::vector<double> scores_;
};

class RefGqa final : public GqaAttentionOp {
 public:
  explicit RefGqa(const GqaParams& p) : p_(p), scores_(static_cast<size_t>(p.max_sk)) {}
  void Run(const float* q, const float* k, const float* v, float* out, const GqaShape& s) override {
    const int64_t d = p_.head_dim, group = p_.heads / p_.kv_heads;
    for (int64_t h = 0; h < p_.heads; ++h) {
      const int64_t g = h / group;
      for (int64_t i = 0; i < s.sq; ++i) {
        const int64_t valid = s.kv_len ? s.kv_len[i] : s.sk;
        const float* qi = q + i * s.ldq + h * d;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < valid; ++j) {
          double acc = 0.0;
          for (int64_t t = 0; t < d; ++t) acc += static_cast<double>(qi[t]) * k[j * s.ldk + g * d + t];
          scores_[static_cast<size_t>(j)] = acc * p_.scale;
          mx = std::max(mx, scores_[static_cast<size_t>(j)]);
        }
        double sum = 0.0;
        for (int64_t j = 0; j < valid; ++j) sum += (scores_[static_cast<size_t>(j)] = std::exp(scores_[static_cast<size_t>(j)] - mx));
        float* oi = out + i * s.ldo + h * d;
        for (int64_t t = 0; t < d; ++t) {
          double acc = 0.0;
          for (int64_t j = 0; j < valid; ++j) acc += scores_[static_cast<size_t>(j)] * v[j * s.ldv + g * d + t];
          oi[t] = static_cast<float>(acc / sum);
        }
      }
    }
  }

 private:
  GqaParams p_;
  std::vector<double> scores_;
};

class RefLayerNorm final : public LayerNormOp {
 public:
  RefLayerNorm(int64_t m, int64_t n, float eps, const float* g, const float* b)
      : m_(m), n_(n), eps_(eps), g_(g, g + n), b_(b, b + n) {}
  void Run(const float* x, float* y) override {
    for (int64_t i = 0; i < m_; ++i) {
      const float* xi = x + i * n_;
      double mean = 0.0, var = 0.0;
      for (int64_t j = 0; j < n_; ++j) mean += xi[j];
      mean /= static_cast<double>(n_);
      for (int64_t j = 0; j < n_; ++j) var += (xi[j] - mean) * (xi[j] - mean);
      var /= static_cast<double>(n_);
      const double inv = 1.0 / std::sqrt(var + eps_);
      for (int64_t j = 0; j < n_; ++j)
        y[i * n_ + j] = static_cast<float>((xi[j] - mean) * inv) * g_[static_cast<size_t>(j)] + b_[static_cast<size_t>(j)];
    }
  }

 private:
  int64_t m_, n_;
  float eps_;
  std::vector<float> g_, b_;
};

class RefConv final : public ConvOp {
 public:
  RefConv(const ConvParams& p, const float* w, const float* b)
      : p_(p), w_(w, w + p.out_c * p.in_c * p.kernel * p.kernel), b_(b, b + p.out_c) {}
  size_t src_bytes() const override { return static_cast<size_t>(p_.in_c * p_.in_h * p_.in_w) * 4; }
  size_t dst_bytes() const override { return static_cast<size_t>(p_.out_c * p_.out_h() * p_.out_w()) * 4; }
  void Run(const void* src_v, void* dst_v, const void* res_v) override {
    const auto* src = static_cast<const float*>(src_v);
    auto* dst = static_cast<float*>(dst_v);
    const auto* res = static_cast<const float*>(res_v);
    const int64_t oh = p_.out_h(), ow = p_.out_w(), k = p_.kernel;
    for (int64_t o = 0; o < p_.out_c; ++o) {
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          double acc = b_[static_cast<size_t>(o)];
          for (int64_t c = 0; c < p_.in_c; ++c) {
            for (int64_t ky = 0; ky < k; ++ky) {
              const int64_t iy = y * p_.stride - p_.pad + ky;
              if (iy < 0 || iy >= p_.in_h) continue;
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t ix = x * p_.stride - p_.pad + kx;
                if (ix < 0 || ix >= p_.in_w) continue;
                acc += static_cast<double>(src[(c * p_.in_h + iy) * p_.in_w + ix]) *
                       w_[static_cast<size_t>(((o * p_.in_c + c) * k + ky) * k + kx)];
              }
            }
          }
          const int64_t idx = (o * oh + y) * ow + x;
          float v = static_cast<float>(acc);
          if (p_.residual) v += res[idx];  // res may alias dst: read before the write
          dst[idx] = p_.relu ? std::max(v, 0.0f) : v;
        }
      }
    }
  }

 private:
  ConvParams p_;
  std::vector<float> w_, b_;
};

class RefMaxPool final : public PoolOp {
 public:
  explicit RefMaxPool(const PoolParams& p) : p_(p) {}
  size_t dst_bytes() const override { return static_cast<size_t>(p_.channels * p_.out_h() * p_.out_w()) * 4; }
  void Run(const void* src_v, void* dst_v) override {
    const auto* src = static_cast<const float*>(src_v);
    auto* dst = static_cast<float*>(dst_v);
    const int64_t oh = p_.out_h(), ow = p_.out_w();
    for (int64_t c = 0; c < p_.channels; ++c)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t ky = 0; ky < p_.kernel; ++ky)
            for (int64_t kx = 0; kx < p_.kernel; ++kx) {
              const int64_t iy = y * p_.stride - p_.pad + ky, ix = x * p_.stride - p_.pad + kx;
              if (iy >= 0 && iy < p_.in_h && ix >= 0 && ix < p_.in_w)
                m = std::max(m, src[(c * p_.in_h + iy) * p_.in_w + ix]);
            }
          dst[(c * oh + y) * ow + x] = m;
        }
  }

 private:
  PoolParams p_;
};

class RefToTokens final : public ToTokensOp {
 public:
  RefToTokens(int64_t c, int64_t h, int64_t w) : c_(c), hw_(h * w) {}
  void Run(const void* src_v, float* tokens) override {
    const auto* src = static_cast<const float*>(src_v);
    for (int64_t c = 0; c < c_; ++c)
      for (int64_t t = 0; t < hw_; ++t) tokens[t * c_ + c] = src[c * hw_ + t];
  }

 private:
  int64_t c_, hw_;
};

}  // namespace

std::unique_ptr<LinearOp> MakeLinear(const LinearParams& p, const float* w, const float* b) {
  return std::make_unique<RefLinear>(p, w, b);
}
std::unique_ptr<AttentionOp> MakeAttention(const AttentionParams& p) { return std::make_unique<RefAttention>(p); }
std::unique_ptr<GqaAttentionOp> MakeGqaAttention(const GqaParams& p) { return std::make_unique<RefGqa>(p); }
std::unique_ptr<LayerNormOp> MakeLayerNorm(int64_t m, int64_t n, float eps, const float* g, const float* b) {
  return std::make_unique<RefLayerNorm>(m, n, eps, g, b);
}
std::unique_ptr<ConvOp> MakeConv(const ConvParams& p, const float* w, const float* b) {
  return std::make_unique<RefConv>(p, w, b);
}
std::unique_ptr<PoolOp> MakeMaxPool(const PoolParams& p) { return std::make_unique<RefMaxPool>(p); }
std::unique_ptr<ToTokensOp> MakeToTokens(int64_t c, int64_t h, int64_t w) {
  return std::make_unique<RefToTokens>(c, h, w);
}

}  // namespace embody::kernels::ref
