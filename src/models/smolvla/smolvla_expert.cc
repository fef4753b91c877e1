#include "models/smolvla/smolvla_expert.h"

#include <cmath>
#include <cstring>

#include "kernels/elementwise.h"
#include "models/smolvla/smolvla_weights.h"

namespace embody::models::smolvla {

void TimeEmbedding(double time, int64_t dim, double min_period, double max_period, float* out) {
  const int64_t half = dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // torch.linspace(0, 1, half) in float64.
    const double fraction = half == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(half - 1);
    const double period = min_period * std::pow(max_period / min_period, fraction);
    const double x = 1.0 / period * 2.0 * M_PI * time;
    out[i] = static_cast<float>(std::sin(x));
    out[half + i] = static_cast<float>(std::cos(x));
  }
}

namespace {


Result<std::unique_ptr<kernels::LinearOp>> Linear(const WeightTable& w, OpFactory& f, const std::string& key,
                                                  bool with_bias, int64_t m, kernels::Activation act = kernels::Activation::kNone,
                                                  bool residual = false, bool dynamic = false) {
  const Shape* shape = w.ExpectedShape(key + ".weight");
  if (!shape || shape->rank() != 2) return Internal(key + ".weight: not a declared matrix");
  kernels::LinearParams p;
  p.m = m;
  p.n = (*shape)[0];
  p.k = (*shape)[1];
  p.act = act;
  p.residual = residual;
  std::vector<std::string> bias_keys;
  if (with_bias) bias_keys.push_back(key + ".bias");
  return f.Linear("expert", key, Keys({key + ".weight"}, bias_keys), p, dynamic, StackedRows(w, {key + ".weight"}, bias_keys));
}

}  // namespace

Result<std::unique_ptr<ActionExpert>> ActionExpert::Create(const SmolVlaConfig& c, const WeightTable& w,
                                                           OpFactory& factory, int64_t max_prefix) {
  const kernels::Backend backend = factory.backend();
  auto e = std::make_unique<ActionExpert>();
  const auto& x = c.vlm.text;
  e->chunk_ = c.chunk_size;
  e->de_ = c.expert_hidden;
  e->heads_ = x.heads;
  e->kv_heads_ = x.kv_heads;
  e->head_dim_ = x.head_dim;
  e->q_dim_ = int64_t{x.heads} * x.head_dim;
  e->kv_dim_ = int64_t{x.kv_heads} * x.head_dim;
  e->inter_ = c.expert_intermediate;
  e->max_action_ = c.max_action_dim;
  e->num_steps_ = c.num_steps;
  e->min_period_ = c.min_period;
  e->max_period_ = c.max_period;
  e->eps_ = x.eps;
  const int64_t q = e->chunk_;
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = kExpert + "layers." + std::to_string(i) + ".";
    Layer L;
    L.self_attn = c.is_self_attn_layer(i);
    {
      EMBODY_ASSIGN_OR_RETURN(Tensor a, w.ReadF32(p + "input_layernorm.weight"));
      L.ln_in.assign(a.data<float>(), a.data<float>() + a.numel());
      EMBODY_ASSIGN_OR_RETURN(Tensor b, w.ReadF32(p + "post_attention_layernorm.weight"));
      L.ln_post.assign(b.data<float>(), b.data<float>() + b.numel());
    }
    kernels::LinearParams lp;
    lp.m = q;
    lp.k = e->de_;
    if (L.self_attn) {
      const std::vector<std::string> qkv = {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                                            p + "self_attn.v_proj.weight"};
      lp.n = e->q_dim_ + 2 * e->kv_dim_;
      EMBODY_ASSIGN_OR_RETURN(L.q_or_qkv, factory.Linear("expert", p + "self_attn.qkv_proj", qkv, lp, false, StackedRows(w, qkv)));
    } else {
      EMBODY_ASSIGN_OR_RETURN(L.q_or_qkv, Linear(w, factory, p + "self_attn.q_proj", false, q));
      EMBODY_ASSIGN_OR_RETURN(L.cross_k, Linear(w, factory, p + "self_attn.k_proj", false, max_prefix, kernels::Activation::kNone, false, true));
      EMBODY_ASSIGN_OR_RETURN(L.cross_v, Linear(w, factory, p + "self_attn.v_proj", false, max_prefix, kernels::Activation::kNone, false, true));
    }
    EMBODY_ASSIGN_OR_RETURN(L.o, Linear(w, factory, p + "self_attn.o_proj", false, q, kernels::Activation::kNone, true));
    const std::vector<std::string> gu = {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"};
    lp.n = 2 * e->inter_;
    EMBODY_ASSIGN_OR_RETURN(L.gate_up, factory.Linear("expert", p + "mlp.gate_up_proj", gu, lp, false, StackedRows(w, gu)));
    EMBODY_ASSIGN_OR_RETURN(L.down, Linear(w, factory, p + "mlp.down_proj", false, q, kernels::Activation::kNone, true));
    e->layers_.push_back(std::move(L));
  }
  {
    EMBODY_ASSIGN_OR_RETURN(Tensor n, w.ReadF32(kExpert + "norm.weight"));
    e->final_norm_.assign(n.data<float>(), n.data<float>() + n.numel());
  }
  EMBODY_ASSIGN_OR_RETURN(e->action_in_, Linear(w, factory, "model.action_in_proj", true, q));
  EMBODY_ASSIGN_OR_RETURN(e->time_in_, Linear(w, factory, "model.action_time_mlp_in", true, q, kernels::Activation::kSilu));
  EMBODY_ASSIGN_OR_RETURN(e->time_out_, Linear(w, factory, "model.action_time_mlp_out", true, q));
  EMBODY_ASSIGN_OR_RETURN(e->action_out_, Linear(w, factory, "model.action_out_proj", true, q));
  kernels::GqaParams gp;
  gp.heads = x.heads;
  gp.kv_heads = x.kv_heads;
  gp.head_dim = x.head_dim;
  gp.max_sq = q;
  gp.max_sk = max_prefix + q;
  gp.scale = 1.0f / std::sqrt(static_cast<float>(x.head_dim));
  EMBODY_ASSIGN_OR_RETURN(e->attn_, kernels::MakeGqaAttention(backend, gp));
  const size_t qs = static_cast<size_t>(q);
  e->x_.resize(qs * static_cast<size_t>(e->max_action_));
  e->v_.resize(qs * static_cast<size_t>(e->max_action_));
  e->a_t_.resize(qs * static_cast<size_t>(2 * e->de_));
  e->hidden_.resize(qs * static_cast<size_t>(e->de_));
  e->y_.resize(qs * static_cast<size_t>(e->de_));
  e->h_.resize(qs * static_cast<size_t>(e->de_));
  e->qkv_.resize(qs * static_cast<size_t>(e->q_dim_ + 2 * e->kv_dim_));
  e->att_.resize(qs * static_cast<size_t>(e->q_dim_));
  e->gu_.resize(qs * static_cast<size_t>(2 * e->inter_));
  e->mlp_.resize(qs * static_cast<size_t>(e->inter_));
  e->positions_.resize(qs);
  e->kv_len_.resize(qs);
  return e;
}

void ActionExpert::ProjectPrefix(PrefixCache& cache) {
  for (size_t l = 0; l < layers_.size(); ++l) {
    Layer& L = layers_[l];
    if (L.self_attn) continue;
    L.cross_k->RunRows(cache.k[l].data(), cache.length, cache.cross_k[l].data());
    L.cross_v->RunRows(cache.v[l].data(), cache.length, cache.cross_v[l].data());
  }
}

void ActionExpert::Velocity(PrefixCache& cache, const float* x_t, float time, float* v) {
  const int64_t q = chunk_, P = cache.length;
  // Suffix embedding: [action_in_proj(x_t), time embedding] -> mlp_in -> silu -> mlp_out.
  action_in_->Run(x_t, hidden_.data());
  std::vector<float>& at = a_t_;
  float* temb = at.data() + de_;  // row 0's time half, copied to every row
  TimeEmbedding(static_cast<double>(time), de_, min_period_, max_period_, temb);
  for (int64_t i = q - 1; i >= 0; --i) {
    std::memmove(at.data() + i * 2 * de_ + de_, temb, static_cast<size_t>(de_) * 4);
    std::memcpy(at.data() + i * 2 * de_, hidden_.data() + i * de_, static_cast<size_t>(de_) * 4);
  }
  time_in_->Run(at.data(), hidden_.data());
  time_out_->Run(hidden_.data(), y_.data());
  float* y = y_.data();
  const int64_t qkv_ld = q_dim_ + 2 * kv_dim_;
  for (size_t l = 0; l < layers_.size(); ++l) {
    Layer& L = layers_[l];
    kernels::RmsNorm(y, q, de_, de_, L.ln_in.data(), eps_, h_.data(), de_);
    kernels::GqaShape s;
    s.sq = q;
    s.ldo = q_dim_;
    if (L.self_attn) {
      // Joint attention: keys = [prefix cache ; this step's action keys], causal among actions,
      // action positions continue after the prefix.
      L.q_or_qkv->Run(h_.data(), qkv_.data());
      for (int64_t i = 0; i < q; ++i) {
        positions_[static_cast<size_t>(i)] = static_cast<int32_t>(P + i);
        kv_len_[static_cast<size_t>(i)] = static_cast<int32_t>(P + i + 1);
      }
      kernels::ApplyRope(qkv_.data(), q, heads_, head_dim_, qkv_ld, positions_.data(), 10000.0f);
      kernels::ApplyRope(qkv_.data() + q_dim_, q, kv_heads_, head_dim_, qkv_ld, positions_.data(), 10000.0f);
      float* k = cache.k[l].data();
      float* vv = cache.v[l].data();
      for (int64_t i = 0; i < q; ++i) {
        std::memcpy(k + (P + i) * kv_dim_, qkv_.data() + i * qkv_ld + q_dim_, static_cast<size_t>(kv_dim_) * 4);
        std::memcpy(vv + (P + i) * kv_dim_, qkv_.data() + i * qkv_ld + q_dim_ + kv_dim_, static_cast<size_t>(kv_dim_) * 4);
      }
      s.sk = P + q;
      s.ldq = qkv_ld;
      s.ldk = s.ldv = kv_dim_;
      s.kv_len = kv_len_.data();
      attn_->Run(qkv_.data(), k, vv, att_.data(), s);
    } else {
      // Cross-attention: queries at positions 0..q-1, keys = expert-projected prefix, no mask.
      L.q_or_qkv->Run(h_.data(), qkv_.data());
      for (int64_t i = 0; i < q; ++i) positions_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
      kernels::ApplyRope(qkv_.data(), q, heads_, head_dim_, q_dim_, positions_.data(), 10000.0f);
      s.sk = P;
      s.ldq = q_dim_;
      s.ldk = s.ldv = kv_dim_;
      s.kv_len = nullptr;
      attn_->Run(qkv_.data(), cache.cross_k[l].data(), cache.cross_v[l].data(), att_.data(), s);
    }
    L.o->Run(att_.data(), y, y);
    kernels::RmsNorm(y, q, de_, de_, L.ln_post.data(), eps_, h_.data(), de_);
    L.gate_up->Run(h_.data(), gu_.data());
    kernels::SiluGate(gu_.data(), q, inter_, mlp_.data());
    L.down->Run(mlp_.data(), y, y);
  }
  kernels::RmsNorm(y, q, de_, de_, final_norm_.data(), eps_, h_.data(), de_);
  action_out_->Run(h_.data(), v);
}

void ActionExpert::Denoise(PrefixCache& cache, const float* noise, float* out, float* first_velocity,
                           std::vector<float>* trajectory) {
  if (trajectory) trajectory->clear();
  const int64_t n = chunk_ * max_action_;
  std::memcpy(x_.data(), noise, static_cast<size_t>(n) * 4);
  const double dt = -1.0 / num_steps_;
  const float dt_f = static_cast<float>(dt);
  for (int step = 0; step < num_steps_; ++step) {
    const float time = static_cast<float>(1.0 + step * dt);
    Velocity(cache, x_.data(), time, v_.data());
    if (step == 0 && first_velocity) std::memcpy(first_velocity, v_.data(), static_cast<size_t>(n) * 4);
    for (int64_t i = 0; i < n; ++i) x_[static_cast<size_t>(i)] = x_[static_cast<size_t>(i)] + dt_f * v_[static_cast<size_t>(i)];
    if (trajectory) trajectory->insert(trajectory->end(), x_.begin(), x_.begin() + n);
  }
  std::memcpy(out, x_.data(), static_cast<size_t>(n) * 4);
}

}  // namespace embody::models::smolvla
