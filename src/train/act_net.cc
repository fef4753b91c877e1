#include "train/act_net.h"

#include <cmath>

#include "train/cpu_autocast.h"

namespace embody::train {

namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  torch::nn::Conv2d c(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
  // torchvision's ResNet: Kaiming-normal, fan_out, for every convolution.
  torch::nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut, torch::kReLU);
  return c;
}

torch::Tensor Activate(const torch::Tensor& x, bool gelu) { return gelu ? torch::gelu(x) : torch::relu(x); }

}  // namespace

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t channels) {
  weight = register_buffer("weight", torch::ones({channels}));
  bias = register_buffer("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  if (calibrating) {
    torch::NoGradGuard no_grad;
    running_mean.copy_(x.mean({0, 2, 3}));
    running_var.copy_(x.var({0, 2, 3}, /*unbiased=*/false));
  }
  // In x's dtype: under use_amp a bf16 activation times f32 buffers would promote to f32, and
  // every convolution would cast it back (two extra passes per norm).
  const torch::Tensor scale = (weight * (running_var + 1e-5).rsqrt()).to(x.scalar_type());
  const torch::Tensor shift = (bias - running_mean * scale).to(x.scalar_type());
  return x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
}

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
  conv1 = register_module("conv1", Conv(in, out, 3, stride, 1));
  bn1 = register_module("bn1", FrozenBatchNorm2d(out));
  conv2 = register_module("conv2", Conv(out, out, 3, 1, 1));
  bn2 = register_module("bn2", FrozenBatchNorm2d(out));
  if (stride != 1 || in != out)
    downsample = register_module("downsample", torch::nn::Sequential(Conv(in, out, 1, stride, 0), FrozenBatchNorm2d(out)));
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return torch::relu(y + (downsample ? downsample->forward(x) : x));
}

ResNetTrunkImpl::ResNetTrunkImpl(const std::string& name) {
  const int blocks18[4] = {2, 2, 2, 2}, blocks34[4] = {3, 4, 6, 3};
  const int* blocks = name == "resnet34" ? blocks34 : blocks18;
  conv1 = register_module("conv1", Conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", FrozenBatchNorm2d(64));
  torch::nn::Sequential* layers[4] = {&layer1, &layer2, &layer3, &layer4};
  int64_t in = 64;
  for (int s = 0; s < 4; ++s) {
    const int64_t ch = 64 << s;
    torch::nn::Sequential seq;
    for (int b = 0; b < blocks[s]; ++b) seq->push_back(BasicBlock(b == 0 ? in : ch, ch, b == 0 && s > 0 ? 2 : 1));
    *layers[s] = register_module("layer" + std::to_string(s + 1), seq);
    in = ch;
  }
}

torch::Tensor ResNetTrunkImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1(conv1(x)));
  y = torch::max_pool2d(y, 3, 2, 1);
  return layer4->forward(layer3->forward(layer2->forward(layer1->forward(y))));
}

AttentionImpl::AttentionImpl(int64_t d, int64_t h, double p) : dim(d), heads(h), dropout(p) {
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * d, d}));
  in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * d}));
  out_proj = register_module("out_proj", torch::nn::Linear(d, d));
  torch::nn::init::xavier_uniform_(in_proj_weight);
  torch::nn::init::zeros_(out_proj->bias);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in,
                                     const torch::Tensor& key_padding_mask) {
  const int64_t lq = q_in.size(0), lk = k_in.size(0), b = q_in.size(1), hd = dim / heads;
  auto proj = [&](const torch::Tensor& x, int64_t i) {
    return F::linear(x, in_proj_weight.narrow(0, i * dim, dim), in_proj_bias.narrow(0, i * dim, dim));
  };
  // (L, B, D) -> (B*H, L, hd), as nn.MultiheadAttention lays the heads out.
  torch::Tensor q = proj(q_in, 0).contiguous().view({lq, b * heads, hd}).transpose(0, 1);
  torch::Tensor k = proj(k_in, 1).contiguous().view({lk, b * heads, hd}).transpose(0, 1);
  torch::Tensor v = proj(v_in, 2).contiguous().view({lk, b * heads, hd}).transpose(0, 1);
  torch::Tensor scores = torch::bmm(q * (1.0 / std::sqrt(static_cast<double>(hd))), k.transpose(1, 2));
  if (key_padding_mask.defined()) {
    scores = scores.view({b, heads, lq, lk})
                 .masked_fill(key_padding_mask.view({b, 1, 1, lk}), -std::numeric_limits<float>::infinity())
                 .view({b * heads, lq, lk});
  }
  torch::Tensor attn = torch::softmax(scores, -1);
  if (dropout > 0) attn = F::dropout(attn, F::DropoutFuncOptions().p(dropout).training(is_training()));
  torch::Tensor out = torch::bmm(attn, v).transpose(0, 1).contiguous().view({lq, b, dim});
  return out_proj(out);
}

EncoderLayerImpl::EncoderLayerImpl(const ActHparams& h)
    : pre_norm(h.pre_norm), gelu(h.feedforward_activation == "gelu") {
  self_attn = register_module("self_attn", Attention(h.dim_model, h.n_heads, h.dropout));
  linear1 = register_module("linear1", torch::nn::Linear(h.dim_model, h.dim_feedforward));
  dropout = register_module("dropout", torch::nn::Dropout(h.dropout));
  linear2 = register_module("linear2", torch::nn::Linear(h.dim_feedforward, h.dim_model));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
  dropout1 = register_module("dropout1", torch::nn::Dropout(h.dropout));
  dropout2 = register_module("dropout2", torch::nn::Dropout(h.dropout));
}

torch::Tensor EncoderLayerImpl::forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& mask) {
  torch::Tensor skip = x;
  if (pre_norm) x = norm1(x);
  const torch::Tensor qk = pos.defined() ? x + pos : x;
  x = self_attn(qk, qk, x, mask);
  x = skip + dropout1(x);
  if (pre_norm) {
    skip = x;
    x = norm2(x);
  } else {
    x = norm1(x);
    skip = x;
  }
  x = linear2(dropout(Activate(linear1(x), gelu)));
  x = skip + dropout2(x);
  if (!pre_norm) x = norm2(x);
  return x;
}

EncoderImpl::EncoderImpl(const ActHparams& h, int n) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < n; ++i) layers->push_back(EncoderLayer(h));
  if (h.pre_norm) norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
}

torch::Tensor EncoderImpl::forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& mask) {
  for (const auto& layer : *layers) x = layer->as<EncoderLayer>()->forward(x, pos, mask);
  return norm ? norm(x) : x;
}

DecoderLayerImpl::DecoderLayerImpl(const ActHparams& h)
    : pre_norm(h.pre_norm), gelu(h.feedforward_activation == "gelu") {
  self_attn = register_module("self_attn", Attention(h.dim_model, h.n_heads, h.dropout));
  multihead_attn = register_module("multihead_attn", Attention(h.dim_model, h.n_heads, h.dropout));
  linear1 = register_module("linear1", torch::nn::Linear(h.dim_model, h.dim_feedforward));
  dropout = register_module("dropout", torch::nn::Dropout(h.dropout));
  linear2 = register_module("linear2", torch::nn::Linear(h.dim_feedforward, h.dim_model));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
  norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
  dropout1 = register_module("dropout1", torch::nn::Dropout(h.dropout));
  dropout2 = register_module("dropout2", torch::nn::Dropout(h.dropout));
  dropout3 = register_module("dropout3", torch::nn::Dropout(h.dropout));
}

torch::Tensor DecoderLayerImpl::forward(torch::Tensor x, const torch::Tensor& enc, const torch::Tensor& dec_pos,
                                        const torch::Tensor& enc_pos) {
  torch::Tensor skip = x;
  if (pre_norm) x = norm1(x);
  const torch::Tensor qk = x + dec_pos;
  x = self_attn(qk, qk, x);
  x = skip + dropout1(x);
  if (pre_norm) {
    skip = x;
    x = norm2(x);
  } else {
    x = norm1(x);
    skip = x;
  }
  x = multihead_attn(x + dec_pos, enc + enc_pos, enc);
  x = skip + dropout2(x);
  if (pre_norm) {
    skip = x;
    x = norm3(x);
  } else {
    x = norm2(x);
    skip = x;
  }
  x = linear2(dropout(Activate(linear1(x), gelu)));
  x = skip + dropout3(x);
  if (!pre_norm) x = norm3(x);
  return x;
}

DecoderImpl::DecoderImpl(const ActHparams& h) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < h.n_decoder_layers; ++i) layers->push_back(DecoderLayer(h));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h.dim_model})));
}

torch::Tensor DecoderImpl::forward(torch::Tensor x, const torch::Tensor& enc, const torch::Tensor& dec_pos,
                                   const torch::Tensor& enc_pos) {
  for (const auto& layer : *layers) x = layer->as<DecoderLayer>()->forward(x, enc, dec_pos, enc_pos);
  return norm(x);
}

torch::Tensor SinusoidalTable1d(int64_t n, int64_t dim) {
  // numpy float64, then .float(), as create_sinusoidal_pos_embedding.
  torch::Tensor t = torch::empty({n, dim}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (int64_t p = 0; p < n; ++p)
    for (int64_t j = 0; j < dim; ++j) {
      const double angle = static_cast<double>(p) / std::pow(10000.0, 2.0 * static_cast<double>(j / 2) / static_cast<double>(dim));
      a[p][j] = j % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return t.to(torch::kFloat32);
}

torch::Tensor SinusoidalTable2d(int64_t h, int64_t w, int64_t half) {
  const double two_pi = 2 * M_PI, eps = 1e-6;
  torch::Tensor y = torch::arange(1, h + 1, torch::kFloat32).view({1, h, 1}).expand({1, h, w});
  torch::Tensor x = torch::arange(1, w + 1, torch::kFloat32).view({1, 1, w}).expand({1, h, w});
  y = y / (static_cast<double>(h) + eps) * two_pi;
  x = x / (static_cast<double>(w) + eps) * two_pi;
  const torch::Tensor inv = torch::pow(10000.0, 2 * torch::floor_divide(torch::arange(half, torch::kFloat32), 2) / half);
  const torch::Tensor xr = x.unsqueeze(-1) / inv, yr = y.unsqueeze(-1) / inv;
  auto interleave = [](const torch::Tensor& r) {
    using torch::indexing::Slice;
    return torch::stack({r.index({"...", Slice(0, torch::indexing::None, 2)}).sin(),
                         r.index({"...", Slice(1, torch::indexing::None, 2)}).cos()},
                        -1)
        .flatten(3);
  };
  return torch::cat({interleave(yr), interleave(xr)}, 3).permute({0, 3, 1, 2}).contiguous();
}

ActNetImpl::ActNetImpl(const ActHparams& hp, const TrainFeatures& feat) : h(hp), f(feat) {
  const int64_t d = h.dim_model;
  if (h.use_vae) {
    vae_encoder = register_module("vae_encoder", Encoder(h, h.n_vae_encoder_layers));
    vae_encoder_cls_embed = register_module("vae_encoder_cls_embed", torch::nn::Embedding(1, d));
    if (f.state_dim > 0)
      vae_encoder_robot_state_input_proj =
          register_module("vae_encoder_robot_state_input_proj", torch::nn::Linear(f.state_dim, d));
    vae_encoder_action_input_proj = register_module("vae_encoder_action_input_proj", torch::nn::Linear(f.action_dim, d));
    vae_encoder_latent_output_proj =
        register_module("vae_encoder_latent_output_proj", torch::nn::Linear(d, 2 * h.latent_dim));
    vae_encoder_pos_enc = register_buffer(
        "vae_encoder_pos_enc", SinusoidalTable1d(1 + h.chunk_size + (f.state_dim > 0 ? 1 : 0), d).unsqueeze(0));
  }
  const bool cameras = !f.cameras.empty();
  if (cameras) backbone = register_module("backbone", ResNetTrunk(h.vision_backbone));
  encoder = register_module("encoder", Encoder(h, h.n_encoder_layers));
  decoder = register_module("decoder", Decoder(h));
  if (f.state_dim > 0)
    encoder_robot_state_input_proj = register_module("encoder_robot_state_input_proj", torch::nn::Linear(f.state_dim, d));
  if (f.env_state_dim > 0)
    encoder_env_state_input_proj =
        register_module("encoder_env_state_input_proj", torch::nn::Linear(f.env_state_dim, d));
  encoder_latent_input_proj = register_module("encoder_latent_input_proj", torch::nn::Linear(h.latent_dim, d));
  if (cameras)
    encoder_img_feat_input_proj =
        register_module("encoder_img_feat_input_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(512, d, 1)));
  encoder_1d_feature_pos_embed = register_module(
      "encoder_1d_feature_pos_embed",
      torch::nn::Embedding(1 + (f.state_dim > 0 ? 1 : 0) + (f.env_state_dim > 0 ? 1 : 0), d));
  decoder_pos_embed = register_module("decoder_pos_embed", torch::nn::Embedding(h.chunk_size, d));
  action_head = register_module("action_head", torch::nn::Linear(d, f.action_dim));
  // ACT._reset_parameters: Xavier-uniform for every matrix of the encoder and decoder.
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(encoder.ptr().get()), static_cast<torch::nn::Module*>(decoder.ptr().get())})
    for (auto& p : m->parameters())
      if (p.dim() > 1) torch::nn::init::xavier_uniform_(p);
}

torch::Tensor ActNetImpl::CameraPositions(int64_t hh, int64_t ww) {
  if (hh != cam_pos_h_ || ww != cam_pos_w_) {
    cam_pos_ = SinusoidalTable2d(hh, ww, h.dim_model / 2).flatten(2).permute({2, 0, 1}).contiguous();  // (hw, 1, D)
    cam_pos_h_ = hh;
    cam_pos_w_ = ww;
  }
  return cam_pos_;
}

ActOutput ActNetImpl::forward(const ActBatch& b) {
  ActOutput out = Compute(b);
  // Under use_amp the products come out in bf16; the loss and the caller get f32.
  if (h.use_amp) {
    out.actions = out.actions.to(torch::kFloat32);
    if (out.mu.defined()) {
      out.mu = out.mu.to(torch::kFloat32);
      out.log_sigma_x2 = out.log_sigma_x2.to(torch::kFloat32);
    }
  }
  return out;
}

ActOutput ActNetImpl::Compute(const ActBatch& b) {
  const CpuAutocast autocast(h.use_amp);
  const bool cameras = !f.cameras.empty();
  const int64_t batch = cameras ? b.images.size(0) : b.env_state.size(0), d = h.dim_model;  // LeRobot's rule
  ActOutput out;
  torch::Tensor latent;
  if (h.use_vae && is_training() && b.actions.defined()) {
    std::vector<torch::Tensor> in = {vae_encoder_cls_embed->weight.unsqueeze(0).expand({batch, 1, d})};
    if (f.state_dim > 0) in.push_back(vae_encoder_robot_state_input_proj(b.state).unsqueeze(1));
    in.push_back(vae_encoder_action_input_proj(b.actions));
    const torch::Tensor x = torch::cat(in, 1).permute({1, 0, 2});
    const torch::Tensor pos = vae_encoder_pos_enc.clone().detach().permute({1, 0, 2});
    const torch::Tensor mask = torch::cat(
        {torch::zeros({batch, f.state_dim > 0 ? 2 : 1}, torch::kBool), b.action_is_pad.to(torch::kBool)}, 1);
    const torch::Tensor cls = vae_encoder(x, pos, mask)[0];
    const torch::Tensor params = vae_encoder_latent_output_proj(cls);
    out.mu = params.narrow(1, 0, h.latent_dim);
    out.log_sigma_x2 = params.narrow(1, h.latent_dim, h.latent_dim);
    latent = out.mu + out.log_sigma_x2.div(2).exp() * torch::randn_like(out.mu);
  } else {
    latent = torch::zeros({batch, h.latent_dim});
  }
  std::vector<torch::Tensor> tokens = {encoder_latent_input_proj(latent)};
  if (f.state_dim > 0) tokens.push_back(encoder_robot_state_input_proj(b.state));
  if (f.env_state_dim > 0) tokens.push_back(encoder_env_state_input_proj(b.env_state));
  torch::Tensor one_d = torch::stack(tokens, 0);                               // (n1d, B, D)
  torch::Tensor one_d_pos = encoder_1d_feature_pos_embed->weight.unsqueeze(1);  // (n1d, 1, D)

  // The trunk is shared and frozen BN has no batch statistics, so all cameras go through at once.
  // Channels-last input makes oneDNN run every convolution of the trunk (forward and backward) in
  // NHWC. It pays under bf16 autocast (torchvision's ResNet18, 24 images 96x128, one thread:
  // 0.73-0.79 -> 0.53-0.67 s per forward + backward); in f32 the step time did not change.
  torch::Tensor enc_in = one_d, enc_pos = one_d_pos;
  if (cameras) {
    const int64_t cams = b.images.size(1);
    const torch::Tensor fmap =
        backbone(b.images.flatten(0, 1).contiguous(torch::MemoryFormat::ChannelsLast));  // (B*C, 512, h, w)
    const int64_t fh = fmap.size(2), fw = fmap.size(3);
    const torch::Tensor proj = encoder_img_feat_input_proj(fmap);  // (B*C, D, h, w)
    const torch::Tensor img =
        proj.view({batch, cams, d, fh * fw}).permute({1, 3, 0, 2}).reshape({cams * fh * fw, batch, d});
    const torch::Tensor img_pos = CameraPositions(fh, fw).repeat({cams, 1, 1});
    enc_in = torch::cat({one_d, img}, 0);
    enc_pos = torch::cat({one_d_pos, img_pos}, 0);
  }
  const torch::Tensor enc_out = encoder(enc_in, enc_pos);
  const torch::Tensor dec_in = torch::zeros({h.chunk_size, batch, d});
  const torch::Tensor dec_out = decoder(dec_in, enc_out, decoder_pos_embed->weight.unsqueeze(1), enc_pos);
  out.actions = action_head(dec_out.transpose(0, 1));
  return out;
}

ActPolicyImpl::ActPolicyImpl(const ActHparams& h, const TrainFeatures& f) {
  model = register_module("model", ActNet(h, f));
}

ActLoss ActPolicyImpl::Loss(const ActBatch& b) {
  const ActOutput o = model(b);
  const torch::Tensor keep = b.action_is_pad.to(torch::kBool).logical_not().unsqueeze(-1);
  const torch::Tensor l1 = (torch::abs(b.actions - o.actions) * keep).mean();
  ActLoss r;
  r.l1 = l1.item<double>();
  r.loss = l1;
  if (o.mu.defined()) {
    const torch::Tensor kld = (-0.5 * (1 + o.log_sigma_x2 - o.mu.pow(2) - o.log_sigma_x2.exp())).sum(-1).mean();
    r.kld = kld.item<double>();
    r.loss = l1 + kld * model->h.kl_weight;
  }
  return r;
}

ParamGroups MakeParamGroups(torch::nn::Module& policy) {
  ParamGroups g;
  for (const auto& p : policy.named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    const int i = p.key().rfind("model.backbone", 0) == 0 ? 1 : 0;
    g.names[i].push_back(p.key());
    g.params[i].push_back(p.value());
  }
  return g;
}

void CalibrateFrozenBatchNorms(ResNetTrunkImpl& trunk, const torch::Tensor& images) {
  std::vector<FrozenBatchNorm2dImpl*> norms;
  for (const auto& m : trunk.modules(/*include_self=*/false))
    if (auto* bn = m->as<FrozenBatchNorm2dImpl>()) norms.push_back(bn);
  torch::NoGradGuard no_grad;
  for (auto* bn : norms) bn->calibrating = true;
  trunk.forward(images);
  for (auto* bn : norms) bn->calibrating = false;
}

}  // namespace embody::train
