#include "models/smolvla/smolvla_text.h"

#include <cmath>
#include <cstring>

#include "kernels/elementwise.h"
#include "models/smolvla/smolvla_weights.h"

namespace embody::models::smolvla {

Result<std::unique_ptr<TextPrefill>> TextPrefill::Create(const SmolVlaConfig& c, const WeightTable& w,
                                                         OpFactory& factory, int64_t max_prefix) {
  const kernels::Backend backend = factory.backend();
  auto t = std::make_unique<TextPrefill>();
  const auto& x = c.vlm.text;
  t->d_ = x.hidden;
  t->heads_ = x.heads;
  t->kv_heads_ = x.kv_heads;
  t->head_dim_ = x.head_dim;
  t->q_dim_ = int64_t{x.heads} * x.head_dim;
  t->kv_dim_ = int64_t{x.kv_heads} * x.head_dim;
  t->inter_ = x.intermediate;
  t->vocab_ = x.vocab;
  t->eps_ = x.eps;
  EMBODY_ASSIGN_OR_RETURN(t->embed_tokens_, w.ReadStacked({kVlm + "text_model.embed_tokens.weight"}));
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = kVlm + "text_model.layers." + std::to_string(i) + ".";
    Layer L;
    EMBODY_ASSIGN_OR_RETURN(L.ln_in, w.ReadStacked({p + "input_layernorm.weight"}));
    EMBODY_ASSIGN_OR_RETURN(L.ln_post, w.ReadStacked({p + "post_attention_layernorm.weight"}));
    kernels::LinearParams lp;
    lp.m = max_prefix;
    lp.k = t->d_;
    lp.n = t->q_dim_ + 2 * t->kv_dim_;
    const std::vector<std::string> qkv = {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                                          p + "self_attn.v_proj.weight"};
    EMBODY_ASSIGN_OR_RETURN(L.qkv, factory.Linear("llm", p + "self_attn.qkv_proj", qkv, lp, true, StackedRows(w, qkv)));
    const bool last = i == c.num_layers - 1;  // only its K/V are ever used
    if (!last) {
      lp.k = t->q_dim_;
      lp.n = t->d_;
      lp.residual = true;
      const std::vector<std::string> o = {p + "self_attn.o_proj.weight"};
      EMBODY_ASSIGN_OR_RETURN(L.o, factory.Linear("llm", p + "self_attn.o_proj", o, lp, true, StackedRows(w, o)));
      lp.k = t->d_;
      lp.n = 2 * t->inter_;
      lp.residual = false;
      const std::vector<std::string> gu = {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"};
      EMBODY_ASSIGN_OR_RETURN(L.gate_up, factory.Linear("llm", p + "mlp.gate_up_proj", gu, lp, true, StackedRows(w, gu)));
      lp.k = t->inter_;
      lp.n = t->d_;
      lp.residual = true;
      const std::vector<std::string> down = {p + "mlp.down_proj.weight"};
      EMBODY_ASSIGN_OR_RETURN(L.down, factory.Linear("llm", p + "mlp.down_proj", down, lp, true, StackedRows(w, down)));
    }
    t->layers_.push_back(std::move(L));
  }
  kernels::GqaParams gp;
  gp.heads = x.heads;
  gp.kv_heads = x.kv_heads;
  gp.head_dim = x.head_dim;
  gp.max_sq = gp.max_sk = max_prefix;
  gp.scale = 1.0f / std::sqrt(static_cast<float>(x.head_dim));
  EMBODY_ASSIGN_OR_RETURN(t->attn_, kernels::MakeGqaAttention(backend, gp));
  t->h_.resize(static_cast<size_t>(max_prefix * t->d_));
  t->qkv_.resize(static_cast<size_t>(max_prefix * (t->q_dim_ + 2 * t->kv_dim_)));
  t->att_.resize(static_cast<size_t>(max_prefix * t->q_dim_));
  t->gu_.resize(static_cast<size_t>(max_prefix * 2 * t->inter_));
  t->mlp_.resize(static_cast<size_t>(max_prefix * t->inter_));
  t->positions_.resize(static_cast<size_t>(max_prefix));
  t->kv_len_.resize(static_cast<size_t>(max_prefix));
  return t;
}

Status TextPrefill::EmbedTokens(const int32_t* ids, int64_t n, float* embeds) const {
  // LeRobot scales language embeddings by sqrt(hidden) too (unlike stock Llama).
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(d_)));
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_)
      return InvalidArgument("token id " + std::to_string(ids[i]) + " is outside the vocabulary (" +
                             std::to_string(vocab_) + ")");
    const float* row = embed_tokens_.data() + static_cast<int64_t>(ids[i]) * d_;
    for (int64_t j = 0; j < d_; ++j) embeds[i * d_ + j] = row[j] * scale;
  }
  return Status::Ok();
}

void TextPrefill::Run(float* x, int64_t len, PrefixCache& cache) {
  const int64_t qkv_ld = q_dim_ + 2 * kv_dim_;
  // Positions skip nothing (pads are gone); the last token (state) alone sees the full prefix.
  for (int64_t i = 0; i < len; ++i) {
    positions_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    kv_len_[static_cast<size_t>(i)] = static_cast<int32_t>(i == len - 1 ? len : len - 1);
  }
  cache.length = len;
  for (size_t l = 0; l < layers_.size(); ++l) {
    Layer& L = layers_[l];
    kernels::RmsNorm(x, len, d_, d_, L.ln_in.data(), eps_, h_.data(), d_);
    L.qkv->RunRows(h_.data(), len, qkv_.data());
    // RoPE on q and k, then the cache takes k (after RoPE) and v.
    kernels::ApplyRope(qkv_.data(), len, heads_, head_dim_, qkv_ld, positions_.data(), 10000.0f);
    kernels::ApplyRope(qkv_.data() + q_dim_, len, kv_heads_, head_dim_, qkv_ld, positions_.data(), 10000.0f);
    float* k = cache.k[l].data();
    float* v = cache.v[l].data();
    for (int64_t i = 0; i < len; ++i) {
      std::memcpy(k + i * kv_dim_, qkv_.data() + i * qkv_ld + q_dim_, static_cast<size_t>(kv_dim_) * 4);
      std::memcpy(v + i * kv_dim_, qkv_.data() + i * qkv_ld + q_dim_ + kv_dim_, static_cast<size_t>(kv_dim_) * 4);
    }
    if (!L.o) break;  // last layer: nothing downstream reads its output
    kernels::GqaShape s;
    s.sq = s.sk = len;
    s.ldq = qkv_ld;
    s.ldk = s.ldv = kv_dim_;
    s.ldo = q_dim_;
    s.kv_len = kv_len_.data();
    attn_->Run(qkv_.data(), k, v, att_.data(), s);
    L.o->RunRows(att_.data(), len, x, x);
    kernels::RmsNorm(x, len, d_, d_, L.ln_post.data(), eps_, h_.data(), d_);
    L.gate_up->RunRows(h_.data(), len, gu_.data());
    kernels::SiluGate(gu_.data(), len, inter_, mlp_.data());
    L.down->RunRows(mlp_.data(), len, x, x);
  }
}

}  // namespace embody::models::smolvla
