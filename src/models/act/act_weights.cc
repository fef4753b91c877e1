#include "models/act/act_weights.h"

namespace embody::models::act {

int ResNetBlocks(const ActConfig& c, int stage) {
  static constexpr int kResNet18[4] = {2, 2, 2, 2};
  static constexpr int kResNet34[4] = {3, 4, 6, 3};
  return c.vision_backbone == "resnet34" ? kResNet34[stage] : kResNet18[stage];
}

namespace {

void ExpectBn(WeightTable& t, const std::string& p, int64_t ch) {
  for (const char* s : {"weight", "bias", "running_mean", "running_var"}) t.Expect(p + "." + s, {ch});
}

void ExpectAttention(WeightTable& t, const std::string& p, int64_t d) {
  t.Expect(p + ".in_proj_weight", {3 * d, d});
  t.Expect(p + ".in_proj_bias", {3 * d});
  t.Expect(p + ".out_proj.weight", {d, d});
  t.Expect(p + ".out_proj.bias", {d});
}

void ExpectLinear(WeightTable& t, const std::string& p, int64_t out, int64_t in) {
  t.Expect(p + ".weight", {out, in});
  t.Expect(p + ".bias", {out});
}

void ExpectNorm(WeightTable& t, const std::string& p, int64_t d) {
  t.Expect(p + ".weight", {d});
  t.Expect(p + ".bias", {d});
}

}  // namespace

WeightTable MakeActWeightTable(const ActConfig& c) {
  WeightTable t;
  const int64_t d = c.dim_model, f = c.dim_feedforward;
  if (c.num_cameras() > 0) {
    t.Expect("model.backbone.conv1.weight", {64, 3, 7, 7});
    ExpectBn(t, "model.backbone.bn1", 64);
    int64_t in_ch = 64;
    for (int s = 0; s < 4; ++s) {
      const int64_t ch = ResNetChannels(s);
      for (int b = 0; b < ResNetBlocks(c, s); ++b) {
        const std::string p = "model.backbone.layer" + std::to_string(s + 1) + "." + std::to_string(b);
        t.Expect(p + ".conv1.weight", {ch, b == 0 ? in_ch : ch, 3, 3});
        ExpectBn(t, p + ".bn1", ch);
        t.Expect(p + ".conv2.weight", {ch, ch, 3, 3});
        ExpectBn(t, p + ".bn2", ch);
        if (b == 0 && s > 0) {
          t.Expect(p + ".downsample.0.weight", {ch, in_ch, 1, 1});
          ExpectBn(t, p + ".downsample.1", ch);
        }
      }
      in_ch = ch;
    }
    t.Expect("model.encoder_img_feat_input_proj.weight", {d, 512, 1, 1});
    t.Expect("model.encoder_img_feat_input_proj.bias", {d});
  }
  for (int i = 0; i < c.n_encoder_layers; ++i) {
    const std::string p = "model.encoder.layers." + std::to_string(i);
    ExpectAttention(t, p + ".self_attn", d);
    ExpectLinear(t, p + ".linear1", f, d);
    ExpectLinear(t, p + ".linear2", d, f);
    ExpectNorm(t, p + ".norm1", d);
    ExpectNorm(t, p + ".norm2", d);
  }
  if (c.pre_norm) ExpectNorm(t, "model.encoder.norm", d);
  for (int i = 0; i < c.n_decoder_layers; ++i) {
    const std::string p = "model.decoder.layers." + std::to_string(i);
    ExpectAttention(t, p + ".self_attn", d);
    ExpectAttention(t, p + ".multihead_attn", d);
    ExpectLinear(t, p + ".linear1", f, d);
    ExpectLinear(t, p + ".linear2", d, f);
    ExpectNorm(t, p + ".norm1", d);
    ExpectNorm(t, p + ".norm2", d);
    ExpectNorm(t, p + ".norm3", d);
  }
  ExpectNorm(t, "model.decoder.norm", d);
  if (c.state()) ExpectLinear(t, "model.encoder_robot_state_input_proj", d, c.state_dim());
  if (c.env_state()) ExpectLinear(t, "model.encoder_env_state_input_proj", d, c.env_state_dim());
  ExpectLinear(t, "model.encoder_latent_input_proj", d, c.latent_dim);
  t.Expect("model.encoder_1d_feature_pos_embed.weight", {c.num_1d_tokens(), d});
  t.Expect("model.decoder_pos_embed.weight", {c.chunk_size, d});
  ExpectLinear(t, "model.action_head", c.action_dim(), d);
  return t;
}

}  // namespace embody::models::act
