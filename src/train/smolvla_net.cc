#include "train/smolvla_net.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>

namespace embody::train {

namespace {

namespace sv = models::smolvla;

constexpr double kPi = 3.141592653589793;  // Python's math.pi

// An empty module that only gives its children a name level ("vlm_with_expert", "self_attn", ...).
std::shared_ptr<torch::nn::Module> Holder(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// transformers' _init_weights for SmolVLM and Llama modules.
template <typename M>
M HfInit(M m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters(false)) {
    if (p.key() == "weight") torch::nn::init::normal_(p.value(), 0.0, 0.02);
    else torch::nn::init::zeros_(p.value());
  }
  return m;
}

torch::nn::Linear HfLinear(int64_t in, int64_t out, bool bias) {
  return HfInit(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
}

// The eager attention of smolvlm_with_expert.py: GQA by repeating each KV head over its query
// heads, scores scaled by head_dim^-0.5, masked entries set to float32's lowest, softmax.
// q [B, Lq, H, D], k/v [B, Lk, KV, D], mask [B, Lq, Lk] bool -> [B, Lq, H * D].
torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask) {
  const int64_t B = q.size(0), Lq = q.size(1), heads = q.size(2), D = q.size(3);
  const int64_t Lk = k.size(1), kv_heads = k.size(2), groups = heads / kv_heads;
  const torch::Tensor kk = k.unsqueeze(3).expand({B, Lk, kv_heads, groups, D}).reshape({B, Lk, heads, D});
  const torch::Tensor vv = v.unsqueeze(3).expand({B, Lk, kv_heads, groups, D}).reshape({B, Lk, heads, D});
  torch::Tensor w = torch::matmul(q.transpose(1, 2), kk.transpose(1, 2).transpose(2, 3)) *
                    std::pow(static_cast<double>(D), -0.5);
  w = torch::where(mask.unsqueeze(1), w, std::numeric_limits<float>::lowest());
  const torch::Tensor probs = torch::softmax(w, -1);
  return torch::matmul(probs, vv.permute({0, 2, 1, 3})).permute({0, 2, 1, 3}).reshape({B, Lq, heads * D});
}

// The SigLIP patch position ids: exact row-major (what SmolVLM was trained with), or transformers
// >= 4.55's float32 bucketize, max(i - 1, 0) per axis (the same rule as the runtime's vision block,
// docs/KNOWN_ISSUES.md).
torch::Tensor VisionPositionIds(int grid, bool bucketized) {
  std::vector<int64_t> axis(static_cast<size_t>(grid));
  for (int i = 0; i < grid; ++i) axis[static_cast<size_t>(i)] = i;
  if (bucketized) {
    const double step = 1.0 / grid;
    const int64_t count = static_cast<int64_t>(std::ceil((1.0 - step) / step));
    const float shrink = static_cast<float>(1 - 1e-6);
    for (int i = 0; i < grid; ++i) {
      const float coord = static_cast<float>(i) / static_cast<float>(grid) * shrink;
      int64_t bucket = 0;
      for (int64_t j = 0; j < count; ++j) bucket += static_cast<float>(step + static_cast<double>(j) * step) <= coord;
      axis[static_cast<size_t>(i)] = bucket;
    }
  }
  std::vector<int64_t> ids;
  for (int y = 0; y < grid; ++y)
    for (int x = 0; x < grid; ++x) ids.push_back(axis[static_cast<size_t>(y)] * grid + axis[static_cast<size_t>(x)]);
  return torch::tensor(ids, torch::kInt64);
}

}  // namespace

RmsNormImpl::RmsNormImpl(int64_t dim, double eps_in) : eps(eps_in) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor f = x.to(torch::kFloat32);
  const torch::Tensor var = f.pow(2).mean(-1, true);
  return weight * (f * torch::rsqrt(var + eps)).to(x.scalar_type());
}

SiglipLayerImpl::SiglipLayerImpl(const sv::VisionConfig& v) : heads(v.heads) {
  auto attn = Holder(*this, "self_attn");
  q_proj = attn->register_module("q_proj", HfLinear(v.hidden, v.hidden, true));
  k_proj = attn->register_module("k_proj", HfLinear(v.hidden, v.hidden, true));
  v_proj = attn->register_module("v_proj", HfLinear(v.hidden, v.hidden, true));
  out_proj = attn->register_module("out_proj", HfLinear(v.hidden, v.hidden, true));
  layer_norm1 = register_module("layer_norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({v.hidden}).eps(v.eps)));
  auto mlp = Holder(*this, "mlp");
  fc1 = mlp->register_module("fc1", HfLinear(v.hidden, v.intermediate, true));
  fc2 = mlp->register_module("fc2", HfLinear(v.intermediate, v.hidden, true));
  layer_norm2 = register_module("layer_norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({v.hidden}).eps(v.eps)));
}

torch::Tensor SiglipLayerImpl::forward(const torch::Tensor& x) {
  const int64_t n = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads;
  const torch::Tensor h = layer_norm1(x);
  auto split = [&](const torch::Tensor& y) { return y.view({n, t, heads, hd}).transpose(1, 2); };
  const torch::Tensor q = split(q_proj(h)), k = split(k_proj(h)), v = split(v_proj(h));
  const torch::Tensor w = torch::softmax(torch::matmul(q, k.transpose(2, 3)) * std::pow(static_cast<double>(hd), -0.5), -1);
  const torch::Tensor a = torch::matmul(w, v).transpose(1, 2).reshape({n, t, d});
  const torch::Tensor r = x + out_proj(a);
  return r + fc2(torch::gelu(fc1(layer_norm2(r)), "tanh"));
}

LlamaLayerImpl::LlamaLayerImpl(int64_t hidden, int64_t q_dim, int64_t kv_dim, int64_t kv_in, int64_t intermediate,
                               double eps, bool cross) {
  auto attn = Holder(*this, "self_attn");
  q_proj = attn->register_module("q_proj", HfLinear(hidden, q_dim, false));
  if (cross) {  // LeRobot replaces these after transformers' init: PyTorch's default init
    k_proj = attn->register_module("k_proj", torch::nn::Linear(torch::nn::LinearOptions(kv_in, kv_dim).bias(false)));
    v_proj = attn->register_module("v_proj", torch::nn::Linear(torch::nn::LinearOptions(kv_in, kv_dim).bias(false)));
  } else {
    k_proj = attn->register_module("k_proj", HfLinear(kv_in, kv_dim, false));
    v_proj = attn->register_module("v_proj", HfLinear(kv_in, kv_dim, false));
  }
  o_proj = attn->register_module("o_proj", HfLinear(q_dim, hidden, false));
  auto mlp = Holder(*this, "mlp");
  gate_proj = mlp->register_module("gate_proj", HfLinear(hidden, intermediate, false));
  up_proj = mlp->register_module("up_proj", HfLinear(hidden, intermediate, false));
  down_proj = mlp->register_module("down_proj", HfLinear(intermediate, hidden, false));
  input_layernorm = register_module("input_layernorm", RmsNorm(hidden, eps));
  post_attention_layernorm = register_module("post_attention_layernorm", RmsNorm(hidden, eps));
}

torch::Tensor LlamaLayerImpl::Mlp(const torch::Tensor& x) { return down_proj(torch::silu(gate_proj(x)) * up_proj(x)); }

SmolVlaNetImpl::SmolVlaNetImpl(const SmolVlaHparams& hp) : h(hp), layers(NumLayers(hp)), expert_hidden(ExpertHidden(hp)) {
  const sv::VisionConfig& v = h.vlm.vision;
  const sv::TextConfig& t = h.vlm.text;
  const int64_t q_dim = int64_t{t.heads} * t.head_dim, kv_dim = int64_t{t.kv_heads} * t.head_dim;
  const int64_t s2 = int64_t{h.vlm.scale_factor} * h.vlm.scale_factor;
  const int grid = v.image_size / v.patch;

  auto vwe = Holder(*this, "vlm_with_expert");
  auto vlm_holder = Holder(*vwe, "vlm");
  vlm = vlm_holder.get();
  auto vlm_model = Holder(*vlm_holder, "model");
  auto vision = Holder(*vlm_model, "vision_model");
  vision_model = vision.get();
  auto embeddings = Holder(*vision, "embeddings");
  patch_embedding = embeddings->register_module(
      "patch_embedding", HfInit(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, v.hidden, v.patch).stride(v.patch))));
  position_embedding =
      embeddings->register_module("position_embedding", HfInit(torch::nn::Embedding(int64_t{grid} * grid, v.hidden)));
  auto encoder = Holder(*vision, "encoder");
  vision_layers = encoder->register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < v.layers; ++i) vision_layers->push_back(SiglipLayer(v));
  post_layernorm =
      vision->register_module("post_layernorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({v.hidden}).eps(v.eps)));
  auto connector = Holder(*vlm_model, "connector");
  auto modality = Holder(*connector, "modality_projection");
  connector_proj = modality->register_module("proj", HfLinear(v.hidden * s2, t.hidden, false));
  auto text = Holder(*vlm_model, "text_model");
  embed_tokens = text->register_module("embed_tokens", HfInit(torch::nn::Embedding(t.vocab, t.hidden)));
  text_layers = text->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < layers; ++i)
    text_layers->push_back(LlamaLayer(t.hidden, q_dim, kv_dim, t.hidden, t.intermediate, t.eps, false));
  text_norm = text->register_module("norm", RmsNorm(t.hidden, t.eps));
  lm_head = vlm_holder->register_module("lm_head", HfLinear(t.hidden, t.vocab, false));

  auto expert = Holder(*vwe, "lm_expert");
  expert_layers = expert->register_module("layers", torch::nn::ModuleList());
  const int64_t de = expert_hidden, inter = sv::ExpertIntermediateSize(static_cast<int>(de));
  for (int64_t i = 0; i < layers; ++i) {
    const bool cross = i % h.self_attn_every_n_layers != 0;
    expert_layers->push_back(LlamaLayer(de, q_dim, kv_dim, cross ? kv_dim : de, inter, t.eps, cross));
  }
  expert_norm = expert->register_module("norm", RmsNorm(de, t.eps));

  // LeRobot's own layers keep PyTorch's default init.
  state_proj = register_module("state_proj", torch::nn::Linear(h.max_state_dim, t.hidden));
  action_in_proj = register_module("action_in_proj", torch::nn::Linear(h.max_action_dim, de));
  action_out_proj = register_module("action_out_proj", torch::nn::Linear(de, h.max_action_dim));
  action_time_mlp_in = register_module("action_time_mlp_in", torch::nn::Linear(2 * de, de));
  action_time_mlp_out = register_module("action_time_mlp_out", torch::nn::Linear(de, de));
  vision_position_ids_ = VisionPositionIds(grid, h.transformers_fp32_position_ids);
}

torch::Tensor SmolVlaNetImpl::EmbedImage(const torch::Tensor& images) {
  // patch embedding + positions, the encoder, post LN
  torch::Tensor x = patch_embedding(images).flatten(2).transpose(1, 2);
  x = x + position_embedding(vision_position_ids_);
  for (const auto& layer : *vision_layers) x = layer->as<SiglipLayer>()->forward(x);
  x = post_layernorm(x);
  // connector: Idefics3's pixel shuffle (token (hb, wb) concatenates patches (s hb + dh, s wb + dw),
  // dh outer), then the projection
  const int64_t n = x.size(0), seq = x.size(1), d = x.size(2), s = h.vlm.scale_factor;
  const int64_t side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(seq))));
  x = x.view({n, side, side / s, d * s}).permute({0, 2, 1, 3});
  x = x.reshape({n, side / s, side / s, d * s * s}).permute({0, 2, 1, 3});
  x = x.reshape({n, seq / (s * s), d * s * s});
  return connector_proj(x);
}

SmolVlaPrefix SmolVlaNetImpl::EmbedPrefix(const SmolVlaInputs& in) {
  const int64_t B = in.images.size(0), cams = in.images.size(1), dt = h.vlm.text.hidden;
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(dt)));
  // images (every camera of the batch in one pass), language, state
  torch::Tensor img = EmbedImage(in.images.flatten(0, 1)) * scale;
  const int64_t tokens = img.size(1);
  img = img.reshape({B, cams * tokens, dt});
  const torch::Tensor lang = embed_tokens(in.lang_ids) * scale;
  const torch::Tensor state = state_proj(in.state).unsqueeze(1);
  SmolVlaPrefix p;
  p.embs = torch::cat({img, lang, state}, 1);
  const auto bool_opts = torch::TensorOptions().dtype(torch::kBool);
  p.pad = torch::cat({torch::ones({B, cams * tokens}, bool_opts), in.lang_mask.to(torch::kBool),
                      torch::ones({B, 1}, bool_opts)}, 1);
  // images and language attend to each other, not to the state (ar 1), which sees everything
  p.ar = torch::zeros({B, p.embs.size(1)}, torch::kInt64);
  p.ar.select(1, p.embs.size(1) - 1).fill_(1);
  return p;
}

torch::Tensor SmolVlaNetImpl::Velocity(const SmolVlaPrefix& prefix, const torch::Tensor& x_t, const torch::Tensor& t) {
  const int64_t B = x_t.size(0), S = x_t.size(1), P = prefix.embs.size(1);
  const int64_t hd = h.vlm.text.head_dim;
  // embed_suffix: [action, time] through the time MLP; actions attend causally (ar 1 each)
  const torch::Tensor a = action_in_proj(x_t);
  const torch::Tensor temb =
      SinusoidalTimeEmbedding(t, expert_hidden, h.min_period, h.max_period).to(a.scalar_type()).unsqueeze(1).expand_as(a);
  torch::Tensor hs = action_time_mlp_out(torch::silu(action_time_mlp_in(torch::cat({a, temb}, 2))));
  torch::Tensor hp = prefix.embs;

  const torch::Tensor pad = torch::cat({prefix.pad, torch::ones({B, S}, torch::kBool)}, 1);
  const torch::Tensor ar = torch::cat({prefix.ar, torch::ones({B, S}, torch::kInt64)}, 1);
  const torch::Tensor mask = MakeAttention2dMasks(pad, ar);
  const torch::Tensor pos = torch::cumsum(pad.to(torch::kInt64), 1) - 1;
  const torch::Tensor pos_p = pos.slice(1, 0, P), pos_s = pos.slice(1, P);
  auto heads = [&](const torch::Tensor& y, int64_t len) { return y.view({B, len, -1, hd}); };

  for (int64_t l = 0; l < layers; ++l) {
    LlamaLayerImpl& vl = *text_layers[static_cast<size_t>(l)]->as<LlamaLayer>();
    LlamaLayerImpl& el = *expert_layers[static_cast<size_t>(l)]->as<LlamaLayer>();
    // The VLM stream after the last layer is never used (only the expert's output is), so that
    // layer's prefix attention output, o_proj and MLP are skipped: no effect on the result.
    const bool last = l == layers - 1;
    torch::Tensor att_p, att_s;
    const torch::Tensor xp = vl.input_layernorm(hp), xs = el.input_layernorm(hs);
    if (l % h.self_attn_every_n_layers == 0) {
      // joint self-attention over [prefix, suffix] with each stream's own projections
      const torch::Tensor q = ApplyRope(torch::cat({heads(vl.q_proj(xp), P), heads(el.q_proj(xs), S)}, 1), pos);
      const torch::Tensor k = ApplyRope(torch::cat({heads(vl.k_proj(xp), P), heads(el.k_proj(xs), S)}, 1), pos);
      const torch::Tensor v = torch::cat({heads(vl.v_proj(xp), P), heads(el.v_proj(xs), S)}, 1);
      const torch::Tensor att = Attend(q, k, v, mask);
      att_p = att.slice(1, 0, P);
      att_s = att.slice(1, P);
    } else {
      // cross-attention: the prefix attends to itself; the expert queries (positions from 0) read
      // the VLM's post-RoPE keys and its values through the expert's k/v projections
      const torch::Tensor kp = ApplyRope(heads(vl.k_proj(xp), P), pos_p);
      const torch::Tensor vp = heads(vl.v_proj(xp), P);
      const torch::Tensor mask_pp = mask.slice(1, 0, P).slice(2, 0, P);
      if (!last) att_p = Attend(ApplyRope(heads(vl.q_proj(xp), P), pos_p), kp, vp, mask_pp);
      const torch::Tensor ek = heads(el.k_proj(kp.reshape({B, P, -1})), P);
      const torch::Tensor ev = heads(el.v_proj(vp.reshape({B, P, -1})), P);
      const torch::Tensor epos = pos_s - std::get<0>(pos_s.min(1, true));
      att_s = Attend(ApplyRope(heads(el.q_proj(xs), S), epos), ek, ev, mask.slice(1, P).slice(2, 0, P));
    }
    if (!last) {
      hp = hp + vl.o_proj(att_p);
      hp = hp + vl.Mlp(vl.post_attention_layernorm(hp));
    }
    hs = hs + el.o_proj(att_s);
    hs = hs + el.Mlp(el.post_attention_layernorm(hs));
  }
  return action_out_proj(expert_norm(hs).to(torch::kFloat32));
}

SmolVlaPolicyImpl::SmolVlaPolicyImpl(const SmolVlaHparams& h) {
  model = register_module("model", SmolVlaNet(h));
  ApplySmolVlaFreezing(*this, h);
}

SmolVlaLoss SmolVlaPolicyImpl::Loss(const SmolVlaInputs& in, c10::optional<at::Generator> gen) {
  const torch::Tensor& actions = in.actions;
  const int64_t B = actions.size(0);
  // sample_noise, then sample_time (Beta(1.5, 1) via the Dirichlet sampler, as torch.distributions)
  const torch::Tensor noise = torch::randn(actions.sizes(), gen, torch::kFloat32);
  const torch::Tensor conc = torch::tensor({1.5f, 1.0f}).expand({B, 2}).contiguous();
  const torch::Tensor beta = at::_sample_dirichlet(conc, gen).select(1, 0);
  const torch::Tensor time = beta * 0.999f + 0.001f;
  const torch::Tensor te = time.view({B, 1, 1});
  const torch::Tensor x_t = te * noise + (1 - te) * actions;
  const torch::Tensor u_t = noise - actions;
  const SmolVlaPrefix prefix = model->EmbedPrefix(in);
  const torch::Tensor v_t = model->Velocity(prefix, x_t, time);
  torch::Tensor losses = (u_t - v_t).pow(2);
  if (model->h.mask_padded_actions && in.action_is_pad.defined())
    losses = losses * in.action_is_pad.logical_not().unsqueeze(-1);
  return {losses.mean()};
}

torch::Tensor SmolVlaPolicyImpl::Sample(const SmolVlaInputs& in, const torch::Tensor& noise) {
  const SmolVlaPrefix prefix = model->EmbedPrefix(in);
  const int n = model->h.num_steps;
  const double dt = -1.0 / n;
  torch::Tensor x = noise;
  for (int k = 0; k < n; ++k) {
    const double t = 1.0 + k * dt;
    const torch::Tensor tt = torch::full({x.size(0)}, static_cast<float>(t), torch::kFloat32);
    x = x + static_cast<float>(dt) * model->Velocity(prefix, x, tt);
  }
  return x;
}

void ApplySmolVlaFreezing(SmolVlaPolicyImpl& policy, const SmolVlaHparams& h) {
  SmolVlaNetImpl& m = *policy.model;
  if (h.freeze_vision_encoder)
    for (auto& p : m.vision_model->parameters()) p.set_requires_grad(false);
  if (h.train_expert_only)
    for (auto& p : m.vlm->parameters()) p.set_requires_grad(false);
  // LeRobot 0.4.4's other frozen names ("text_model.model.norm.weight", "text_model.model.layers.
  // <last>.") match no parameter; the last layer's unused parts simply get no gradient.
  m.lm_head->weight.set_requires_grad(false);
  if (!h.train_state_proj)
    for (auto& p : m.state_proj->parameters()) p.set_requires_grad(false);
}

torch::Tensor ApplyRope(const torch::Tensor& x, const torch::Tensor& positions) {
  const int64_t d = x.size(-1), half = d / 2;
  const torch::Tensor xf = x.to(torch::kFloat32);
  const torch::Tensor exponents = static_cast<float>(2.0 / static_cast<double>(d)) * torch::arange(half, torch::kFloat32);
  const torch::Tensor timescale = torch::pow(10000.0, exponents);
  const torch::Tensor radians = (positions.unsqueeze(-1).to(torch::kFloat32) / timescale.view({1, 1, half})).unsqueeze(2);
  const torch::Tensor s = torch::sin(radians), c = torch::cos(radians);
  const torch::Tensor x1 = xf.slice(-1, 0, half), x2 = xf.slice(-1, half);
  return torch::cat({x1 * c - x2 * s, x2 * c + x1 * s}, -1).to(x.scalar_type());
}

torch::Tensor SinusoidalTimeEmbedding(const torch::Tensor& t, int64_t dim, double min_period, double max_period) {
  const torch::Tensor fraction = torch::linspace(0.0, 1.0, dim / 2, torch::kFloat64);
  const torch::Tensor period = min_period * torch::pow(max_period / min_period, fraction);
  const torch::Tensor scaling = 1.0 / period * 2 * kPi;
  const torch::Tensor input = scaling.unsqueeze(0) * t.unsqueeze(1);
  return torch::cat({torch::sin(input), torch::cos(input)}, 1);
}

torch::Tensor MakeAttention2dMasks(const torch::Tensor& pad, const torch::Tensor& ar) {
  const torch::Tensor c = torch::cumsum(ar, 1);
  const torch::Tensor att = c.unsqueeze(1) <= c.unsqueeze(2);
  return att & (pad.unsqueeze(1) & pad.unsqueeze(2));
}

}  // namespace embody::train
