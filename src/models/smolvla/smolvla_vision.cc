#include "models/smolvla/smolvla_vision.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "models/smolvla/image_resize.h"
#include "models/smolvla/smolvla_weights.h"

namespace embody::models::smolvla {

namespace {

kernels::LinearParams Dims(int64_t m, int64_t k, int64_t n, kernels::Activation act = kernels::Activation::kNone,
                            bool residual = false) {
  kernels::LinearParams p;
  p.m = m;
  p.k = k;
  p.n = n;
  p.act = act;
  p.residual = residual;
  return p;
}

// A linear layer from `prefix`.weight and (unless no_bias) `prefix`.bias.
Result<std::unique_ptr<kernels::LinearOp>> Plain(OpFactory& f, const WeightTable& w, const char* block,
                                                 const std::string& prefix, const kernels::LinearParams& p,
                                                 bool no_bias = false) {
  std::vector<std::string> keys = {prefix + ".weight"};
  if (!no_bias) keys.push_back(prefix + ".bias");
  return f.Linear(block, prefix, keys, p, false, [&]() -> Result<DenseWeights> {
    DenseWeights d;
    EMBODY_ASSIGN_OR_RETURN(Tensor weight, w.ReadF32(prefix + ".weight"));
    d.weight.assign(weight.data<float>(), weight.data<float>() + weight.numel());
    if (!no_bias) {
      EMBODY_ASSIGN_OR_RETURN(Tensor bias, w.ReadF32(prefix + ".bias"));
      d.bias.assign(bias.data<float>(), bias.data<float>() + bias.numel());
    }
    return d;
  });
}

// Position id of each patch along one axis of n patches.
std::vector<int32_t> AxisIds(int n, bool bucketized) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  if (!bucketized) {
    for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
    return ids;
  }
  // transformers: boundaries = arange(1/n, 1.0, 1/n) (float32 values, computed in double);
  // coords = float32(i) / n * float32(1 - 1e-6); bucketize(..., right=True).
  const double step = 1.0 / n;
  const int64_t count = static_cast<int64_t>(std::ceil((1.0 - step) / step));
  std::vector<float> boundaries(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) boundaries[static_cast<size_t>(j)] = static_cast<float>(step + static_cast<double>(j) * step);
  const float shrink = static_cast<float>(1 - 1e-6);
  for (int i = 0; i < n; ++i) {
    const float coord = static_cast<float>(i) / static_cast<float>(n) * shrink;
    int32_t bucket = 0;
    for (float b : boundaries) bucket += b <= coord ? 1 : 0;
    ids[static_cast<size_t>(i)] = bucket;
  }
  return ids;
}

}  // namespace

Result<std::unique_ptr<VisionEncoder>> VisionEncoder::Create(const SmolVlaConfig& c, const WeightTable& w,
                                                             OpFactory& factory, bool bucketized_position_ids) {
  const kernels::Backend backend = factory.backend();
  auto e = std::make_unique<VisionEncoder>();
  const auto& v = c.vlm.vision;
  e->size_ = v.image_size;
  e->patch_ = v.patch;
  e->grid_ = v.image_size / v.patch;
  e->n_ = e->grid_ * e->grid_;
  e->dv_ = v.hidden;
  e->dt_ = c.vlm.text.hidden;
  e->scale_ = c.vlm.scale_factor;
  const int64_t n = e->n_, dv = e->dv_, pp = 3 * int64_t{v.patch} * v.patch;
  const std::string vm = kVlm + "vision_model.";
  {  // Patch embedding: a stride-p convolution = a linear over flattened [3, p, p] patches.
    EMBODY_ASSIGN_OR_RETURN(e->patch_embed_, Plain(factory, w, "vision", vm + "embeddings.patch_embedding", Dims(n, pp, dv)));
    EMBODY_ASSIGN_OR_RETURN(Tensor pos, w.ReadF32(vm + "embeddings.position_embedding.weight"));
    const std::vector<int32_t> axis = AxisIds(e->grid_, bucketized_position_ids);
    e->pos_.resize(static_cast<size_t>(n * dv));
    e->position_ids_.resize(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t) {
      const int32_t id = axis[static_cast<size_t>(t / e->grid_)] * e->grid_ + axis[static_cast<size_t>(t % e->grid_)];
      e->position_ids_[static_cast<size_t>(t)] = id;
      std::memcpy(e->pos_.data() + t * dv, pos.data<float>() + int64_t{id} * dv, static_cast<size_t>(dv) * 4);
    }
  }
  for (int i = 0; i < v.layers; ++i) {
    const std::string p = vm + "encoder.layers." + std::to_string(i) + ".";
    Layer L;
    auto norm = [&](const std::string& name) -> Result<std::unique_ptr<kernels::LayerNormOp>> {
      EMBODY_ASSIGN_OR_RETURN(Tensor g, w.ReadF32(p + name + ".weight"));
      EMBODY_ASSIGN_OR_RETURN(Tensor b, w.ReadF32(p + name + ".bias"));
      return kernels::MakeLayerNorm(backend, n, dv, v.eps, g.data<float>(), b.data<float>());
    };
    EMBODY_ASSIGN_OR_RETURN(L.ln1, norm("layer_norm1"));
    EMBODY_ASSIGN_OR_RETURN(L.ln2, norm("layer_norm2"));
    {  // q, k, v stacked into one [3 dv, dv] projection.
      std::vector<std::string> keys;
      for (const char* proj : {"q_proj", "k_proj", "v_proj"}) {
        keys.push_back(p + "self_attn." + proj + ".weight");
        keys.push_back(p + "self_attn." + proj + ".bias");
      }
      EMBODY_ASSIGN_OR_RETURN(L.qkv, factory.Linear("vision", p + "self_attn.qkv_proj", keys, Dims(n, dv, 3 * dv), false,
                                                    [&]() -> Result<DenseWeights> {
        DenseWeights d;
        EMBODY_ASSIGN_OR_RETURN(d.weight, w.ReadStacked({keys[0], keys[2], keys[4]}));
        EMBODY_ASSIGN_OR_RETURN(d.bias, w.ReadStacked({keys[1], keys[3], keys[5]}));
        return d;
      }));
    }
    EMBODY_ASSIGN_OR_RETURN(L.out, Plain(factory, w, "vision", p + "self_attn.out_proj", Dims(n, dv, dv, kernels::Activation::kNone, true)));
    EMBODY_ASSIGN_OR_RETURN(L.fc1, Plain(factory, w, "vision", p + "mlp.fc1", Dims(n, dv, v.intermediate, kernels::Activation::kGeluTanh)));
    EMBODY_ASSIGN_OR_RETURN(L.fc2, Plain(factory, w, "vision", p + "mlp.fc2", Dims(n, v.intermediate, dv, kernels::Activation::kNone, true)));
    e->layers_.push_back(std::move(L));
  }
  {
    kernels::AttentionParams ap;
    ap.heads = v.heads;
    ap.head_dim = dv / v.heads;
    ap.sq = ap.sk = n;
    ap.ldq = ap.ldk = ap.ldv = 3 * dv;
    ap.ldo = dv;
    ap.scale = 1.0f / std::sqrt(static_cast<float>(ap.head_dim));
    ap.bf16 = v.layers > 0 && factory.LowPrecision("vision", vm + "encoder.layers.0.self_attn.out_proj");
    EMBODY_ASSIGN_OR_RETURN(e->attn_, kernels::MakeAttention(backend, ap));
  }
  {
    EMBODY_ASSIGN_OR_RETURN(Tensor g, w.ReadF32(vm + "post_layernorm.weight"));
    EMBODY_ASSIGN_OR_RETURN(Tensor b, w.ReadF32(vm + "post_layernorm.bias"));
    EMBODY_ASSIGN_OR_RETURN(e->post_ln_, kernels::MakeLayerNorm(backend, n, dv, v.eps, g.data<float>(), b.data<float>()));
    const int64_t t = c.tokens_per_image(), s2 = int64_t{e->scale_} * e->scale_;
    EMBODY_ASSIGN_OR_RETURN(e->connector_, Plain(factory, w, "connector", kVlm + "connector.modality_projection.proj",
                                                 Dims(t, dv * s2, e->dt_), /*no_bias=*/true));
  }
  e->image_.resize(static_cast<size_t>(3 * e->size_ * e->size_));
  e->patches_.resize(static_cast<size_t>(n * pp));
  e->x_.resize(static_cast<size_t>(n * dv));
  e->x_alt_.resize(static_cast<size_t>(n * dv));
  e->h_.resize(static_cast<size_t>(n * dv));
  e->qkv_.resize(static_cast<size_t>(n * 3 * dv));
  e->attn_out_.resize(static_cast<size_t>(n * dv));
  e->mlp_.resize(static_cast<size_t>(n * v.intermediate));
  e->shuffled_.resize(static_cast<size_t>(n * dv));
  return e;
}

void VisionEncoder::Run(const uint8_t* frame, int h, int w, float* tokens) {
  const int64_t n = n_, dv = dv_, p = patch_, plane = int64_t{size_} * size_;
  ResizeWithPadToSiglip(frame, h, w, size_, image_.data());
  // Patches in row-major grid order, each flattened as the conv weight is: [c][ky][kx].
  const int64_t pp = 3 * p * p;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n; ++t) {
    const int64_t gy = t / grid_, gx = t % grid_;
    float* dst = patches_.data() + t * pp;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t ky = 0; ky < p; ++ky)
        std::memcpy(dst + (c * p + ky) * p, image_.data() + c * plane + (gy * p + ky) * size_ + gx * p,
                    static_cast<size_t>(p) * 4);
  }
  float* x = x_.data();
  float* x_alt = x_alt_.data();
  patch_embed_->Run(patches_.data(), x);
  for (int64_t i = 0; i < n * dv; ++i) x[i] += pos_[static_cast<size_t>(i)];
  for (Layer& L : layers_) {
    L.ln1->Run(x, h_.data());
    L.qkv->Run(h_.data(), qkv_.data());
    attn_->Run(qkv_.data(), qkv_.data() + dv, qkv_.data() + 2 * dv, attn_out_.data());
    L.out->Run(attn_out_.data(), x_alt, x);
    std::swap(x, x_alt);
    L.ln2->Run(x, h_.data());
    L.fc1->Run(h_.data(), mlp_.data());
    L.fc2->Run(mlp_.data(), x_alt, x);
    std::swap(x, x_alt);
  }
  post_ln_->Run(x, h_.data());
  // Pixel shuffle: token (hb, wb) = concat over (dh, dw) of patch (s hb + dh, s wb + dw).
  const int64_t s = scale_, out_grid = grid_ / s;
  float* sh = shuffled_.data();
  for (int64_t hb = 0; hb < out_grid; ++hb)
    for (int64_t wb = 0; wb < out_grid; ++wb)
      for (int64_t dh = 0; dh < s; ++dh)
        for (int64_t dw = 0; dw < s; ++dw)
          std::memcpy(sh + ((hb * out_grid + wb) * s * s + dh * s + dw) * dv,
                      h_.data() + ((s * hb + dh) * grid_ + (s * wb + dw)) * dv, static_cast<size_t>(dv) * 4);
  connector_->Run(sh, tokens);
  // LeRobot scales image embeddings like Gemma's: x * float32(sqrt(hidden)).
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(dt_)));
  const int64_t count = out_grid * out_grid * dt_;
  for (int64_t i = 0; i < count; ++i) tokens[i] *= scale;
}

}  // namespace embody::models::smolvla
