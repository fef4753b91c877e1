#include "models/act/act_transformer.h"

#include <cstdio>
#include <utility>

namespace embody::models::act {

using kernels::Activation;
using kernels::LinearParams;

void AddInto(const float* a, const float* b, float* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dst[i] = a[i] + b[i];
}

TransformerPlan TransformerPlan::Reserve(Arena& arena, int64_t max_s, int64_t enc_s, int64_t d, int64_t f) {
  auto r = [&](int64_t n) { return arena.Reserve(static_cast<size_t>(n) * sizeof(float)); };
  TransformerPlan p;
  p.pos_sum = r(max_s * d);
  p.qk = r(max_s * 2 * d);
  p.v = r(max_s * d);
  p.attn = r(max_s * d);
  p.tmp = r(max_s * d);
  p.normed = r(max_s * d);
  p.hidden = r(max_s * f);
  p.k_cross = r(enc_s * d);
  p.v_cross = r(enc_s * d);
  return p;
}

TransformerScratch TransformerPlan::Bind(const Arena& a) const {
  return {a.At<float>(pos_sum), a.At<float>(qk),     a.At<float>(v),       a.At<float>(attn),   a.At<float>(tmp),
          a.At<float>(normed),  a.At<float>(hidden), a.At<float>(k_cross), a.At<float>(v_cross)};
}

namespace {

// Linear from `key`.weight/.bias, optionally only rows [row0, row0 + rows) of a fused
// in_proj (PyTorch's MultiheadAttention stacks W_q, W_k, W_v). `op_id` names the slice.
Result<std::unique_ptr<kernels::LinearOp>> MakeProj(const WeightTable& w, OpFactory& factory, const char* block,
                                                    const std::string& op_id, const std::string& weight_key,
                                                    const std::string& bias_key, int64_t row0, int64_t rows,
                                                    int64_t k, LinearParams p) {
  p.k = k;
  p.n = rows;
  return factory.Linear(block, op_id, {weight_key, bias_key}, p, false, [&]() -> Result<DenseWeights> {
    EMBODY_ASSIGN_OR_RETURN(Tensor weight, w.ReadF32(weight_key));
    EMBODY_ASSIGN_OR_RETURN(Tensor bias, w.ReadF32(bias_key));
    if (weight.dim(1) != k) return Internal(weight_key + ": unexpected input width");
    const float* wd = weight.data<float>() + row0 * k;
    const float* bd = bias.data<float>() + row0;
    return DenseWeights{std::vector<float>(wd, wd + rows * k), std::vector<float>(bd, bd + rows)};
  });
}

Result<std::unique_ptr<kernels::LayerNormOp>> MakeNorm(const WeightTable& w, kernels::Backend backend,
                                                       const std::string& prefix, int64_t m, int64_t d) {
  EMBODY_ASSIGN_OR_RETURN(Tensor g, w.ReadF32(prefix + ".weight"));
  EMBODY_ASSIGN_OR_RETURN(Tensor b, w.ReadF32(prefix + ".bias"));
  auto op = kernels::MakeLayerNorm(backend, m, d, 1e-5f, g.data<float>(), b.data<float>());
  if (!op.ok()) return op.status().WithContext(prefix);
  return op;
}

// The op id suffix of rows [row0, row0 + rows) of a fused in_proj: "[0:1024]".
std::string SliceName(int64_t row0, int64_t rows) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "[%lld:%lld]", static_cast<long long>(row0), static_cast<long long>(row0 + rows));
  return buf;
}

LinearParams Rows(int64_t m, Activation act = Activation::kNone, bool residual = false) {
  LinearParams p;
  p.m = m;
  p.act = act;
  p.residual = residual;
  return p;
}

kernels::AttentionParams Attn(const ActConfig& c, int64_t sq, int64_t sk, int64_t ldq, int64_t ldk) {
  const int64_t d = c.dim_model, hd = d / c.n_heads;
  kernels::AttentionParams a;
  a.heads = c.n_heads;
  a.head_dim = hd;
  a.sq = sq;
  a.sk = sk;
  a.ldq = ldq;
  a.ldk = ldk;
  a.ldv = d;
  a.ldo = d;
  a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  return a;
}

}  // namespace

Result<std::unique_ptr<ActEncoder>> ActEncoder::Create(const ActConfig& c, const WeightTable& w,
                                                       OpFactory& factory, int64_t seq) {
  constexpr const char* kBlock = "encoder";
  const kernels::Backend backend = factory.backend();
  auto e = std::make_unique<ActEncoder>();
  e->seq_ = seq;
  e->d_ = c.dim_model;
  e->pre_norm_ = c.pre_norm;
  const int64_t d = c.dim_model;
  for (int i = 0; i < c.n_encoder_layers; ++i) {
    const std::string p = "model.encoder.layers." + std::to_string(i);
    const std::string a = p + ".self_attn";
    Layer L;
    EMBODY_ASSIGN_OR_RETURN(L.qk, MakeProj(w, factory, kBlock, a + ".in_proj" + SliceName(0, 2 * d), a + ".in_proj_weight", a + ".in_proj_bias", 0, 2 * d, d, Rows(seq)));
    EMBODY_ASSIGN_OR_RETURN(L.v, MakeProj(w, factory, kBlock, a + ".in_proj" + SliceName(2 * d, d), a + ".in_proj_weight", a + ".in_proj_bias", 2 * d, d, d, Rows(seq)));
    EMBODY_ASSIGN_OR_RETURN(L.out, MakeProj(w, factory, kBlock, a + ".out_proj", a + ".out_proj.weight", a + ".out_proj.bias", 0, d, d,
                                            Rows(seq, Activation::kNone, true)));
    EMBODY_ASSIGN_OR_RETURN(L.ff1, MakeProj(w, factory, kBlock, p + ".linear1", p + ".linear1.weight", p + ".linear1.bias", 0,
                                            c.dim_feedforward, d, Rows(seq, c.feedforward_activation)));
    EMBODY_ASSIGN_OR_RETURN(L.ff2, MakeProj(w, factory, kBlock, p + ".linear2", p + ".linear2.weight", p + ".linear2.bias", 0, d, c.dim_feedforward,
                                            Rows(seq, Activation::kNone, true)));
    EMBODY_ASSIGN_OR_RETURN(L.norm1, MakeNorm(w, backend, p + ".norm1", seq, d));
    EMBODY_ASSIGN_OR_RETURN(L.norm2, MakeNorm(w, backend, p + ".norm2", seq, d));
    e->layers_.push_back(std::move(L));
  }
  if (c.pre_norm) {
    EMBODY_ASSIGN_OR_RETURN(e->final_norm_, MakeNorm(w, backend, "model.encoder.norm", seq, d));
  }
  kernels::AttentionParams self = Attn(c, seq, seq, 2 * d, 2 * d);
  self.bf16 = factory.LowPrecision(kBlock, "model.encoder.layers.0.self_attn.out_proj");
  EMBODY_ASSIGN_OR_RETURN(e->attn_, kernels::MakeAttention(backend, self));
  return e;
}

float* ActEncoder::Run(float* x, float* x_alt, const float* pos, const TransformerScratch& s) {
  const int64_t n = seq_ * d_;
  for (Layer& L : layers_) {
    // Self-attention block. Post-norm: x = norm1(x + attn(x)); pre-norm: x = x + attn(norm1(x)).
    const float* h = x;
    if (pre_norm_) {
      L.norm1->Run(x, s.normed);
      h = s.normed;
    }
    AddInto(h, pos, s.pos_sum, n);
    L.qk->Run(s.pos_sum, s.qk);
    L.v->Run(h, s.v);
    attn_->Run(s.qk, s.qk + d_, s.v, s.attn);
    L.out->Run(s.attn, x_alt, x);  // x_alt = x + out_proj(attn)
    std::swap(x, x_alt);
    if (!pre_norm_) L.norm1->Run(x, x);
    // Feed-forward block.
    h = x;
    if (pre_norm_) {
      L.norm2->Run(x, s.normed);
      h = s.normed;
    }
    L.ff1->Run(h, s.hidden);
    L.ff2->Run(s.hidden, x_alt, x);
    std::swap(x, x_alt);
    if (!pre_norm_) L.norm2->Run(x, x);
  }
  if (final_norm_) final_norm_->Run(x, x);
  return x;
}

Result<std::unique_ptr<ActDecoder>> ActDecoder::Create(const ActConfig& c, const WeightTable& w,
                                                       OpFactory& factory, int64_t enc_seq) {
  constexpr const char* kBlock = "decoder";
  const kernels::Backend backend = factory.backend();
  auto dec = std::make_unique<ActDecoder>();
  const int64_t d = c.dim_model, q = c.chunk_size;
  dec->chunk_ = q;
  dec->d_ = d;
  dec->pre_norm_ = c.pre_norm;
  for (int i = 0; i < c.n_decoder_layers; ++i) {
    const std::string p = "model.decoder.layers." + std::to_string(i);
    const std::string sa = p + ".self_attn", ca = p + ".multihead_attn";
    Layer L;
    EMBODY_ASSIGN_OR_RETURN(L.sa_qk, MakeProj(w, factory, kBlock, sa + ".in_proj" + SliceName(0, 2 * d), sa + ".in_proj_weight", sa + ".in_proj_bias", 0, 2 * d, d, Rows(q)));
    EMBODY_ASSIGN_OR_RETURN(L.sa_v, MakeProj(w, factory, kBlock, sa + ".in_proj" + SliceName(2 * d, d), sa + ".in_proj_weight", sa + ".in_proj_bias", 2 * d, d, d, Rows(q)));
    EMBODY_ASSIGN_OR_RETURN(L.sa_out, MakeProj(w, factory, kBlock, sa + ".out_proj", sa + ".out_proj.weight", sa + ".out_proj.bias", 0, d, d,
                                               Rows(q, Activation::kNone, true)));
    EMBODY_ASSIGN_OR_RETURN(L.ca_q, MakeProj(w, factory, kBlock, ca + ".in_proj" + SliceName(0, d), ca + ".in_proj_weight", ca + ".in_proj_bias", 0, d, d, Rows(q)));
    EMBODY_ASSIGN_OR_RETURN(L.ca_k, MakeProj(w, factory, kBlock, ca + ".in_proj" + SliceName(d, d), ca + ".in_proj_weight", ca + ".in_proj_bias", d, d, d, Rows(enc_seq)));
    EMBODY_ASSIGN_OR_RETURN(L.ca_v, MakeProj(w, factory, kBlock, ca + ".in_proj" + SliceName(2 * d, d), ca + ".in_proj_weight", ca + ".in_proj_bias", 2 * d, d, d, Rows(enc_seq)));
    EMBODY_ASSIGN_OR_RETURN(L.ca_out, MakeProj(w, factory, kBlock, ca + ".out_proj", ca + ".out_proj.weight", ca + ".out_proj.bias", 0, d, d,
                                               Rows(q, Activation::kNone, true)));
    EMBODY_ASSIGN_OR_RETURN(L.ff1, MakeProj(w, factory, kBlock, p + ".linear1", p + ".linear1.weight", p + ".linear1.bias", 0,
                                            c.dim_feedforward, d, Rows(q, c.feedforward_activation)));
    EMBODY_ASSIGN_OR_RETURN(L.ff2, MakeProj(w, factory, kBlock, p + ".linear2", p + ".linear2.weight", p + ".linear2.bias", 0, d, c.dim_feedforward,
                                            Rows(q, Activation::kNone, true)));
    EMBODY_ASSIGN_OR_RETURN(L.norm1, MakeNorm(w, backend, p + ".norm1", q, d));
    EMBODY_ASSIGN_OR_RETURN(L.norm2, MakeNorm(w, backend, p + ".norm2", q, d));
    EMBODY_ASSIGN_OR_RETURN(L.norm3, MakeNorm(w, backend, p + ".norm3", q, d));
    dec->layers_.push_back(std::move(L));
  }
  EMBODY_ASSIGN_OR_RETURN(dec->final_norm_, MakeNorm(w, backend, "model.decoder.norm", q, d));
  kernels::AttentionParams self = Attn(c, q, q, 2 * d, 2 * d), cross = Attn(c, q, enc_seq, d, d);
  self.bf16 = factory.LowPrecision(kBlock, "model.decoder.layers.0.self_attn.out_proj");
  cross.bf16 = factory.LowPrecision(kBlock, "model.decoder.layers.0.multihead_attn.out_proj");
  EMBODY_ASSIGN_OR_RETURN(dec->sa_, kernels::MakeAttention(backend, self));
  EMBODY_ASSIGN_OR_RETURN(dec->ca_, kernels::MakeAttention(backend, cross));
  return dec;
}

float* ActDecoder::Run(const float* enc, const float* enc_pos_sum, const float* query_pos, float* y,
                       float* y_alt, const TransformerScratch& s) {
  const int64_t n = chunk_ * d_;
  std::fill(y, y + n, 0.0f);  // the decoder starts from zeros
  for (Layer& L : layers_) {
    // Self-attention.
    const float* h = y;
    if (pre_norm_) {
      L.norm1->Run(y, s.normed);
      h = s.normed;
    }
    AddInto(h, query_pos, s.pos_sum, n);
    L.sa_qk->Run(s.pos_sum, s.qk);
    L.sa_v->Run(h, s.v);
    sa_->Run(s.qk, s.qk + d_, s.v, s.attn);
    L.sa_out->Run(s.attn, y_alt, y);
    std::swap(y, y_alt);
    h = y;
    if (pre_norm_) {
      L.norm2->Run(y, s.normed);
      h = s.normed;
    } else {
      L.norm1->Run(y, y);
    }
    // Cross-attention: queries from the decoder, keys = encoder output + positions.
    AddInto(h, query_pos, s.pos_sum, n);
    L.ca_q->Run(s.pos_sum, s.qk);
    L.ca_k->Run(enc_pos_sum, s.k_cross);
    L.ca_v->Run(enc, s.v_cross);
    ca_->Run(s.qk, s.k_cross, s.v_cross, s.attn);
    L.ca_out->Run(s.attn, y_alt, y);
    std::swap(y, y_alt);
    h = y;
    if (pre_norm_) {
      L.norm3->Run(y, s.normed);
      h = s.normed;
    } else {
      L.norm2->Run(y, y);
    }
    // Feed-forward.
    L.ff1->Run(h, s.hidden);
    L.ff2->Run(s.hidden, y_alt, y);
    std::swap(y, y_alt);
    if (!pre_norm_) L.norm3->Run(y, y);
  }
  final_norm_->Run(y, y);
  return y;
}

}  // namespace embody::models::act
