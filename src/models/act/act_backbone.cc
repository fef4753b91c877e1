#include "models/act/act_backbone.h"

#include <algorithm>
#include <cmath>

#include "models/act/act_weights.h"

namespace embody::models::act {

namespace {

constexpr float kFrozenBnEps = 1e-5f;

// Reads conv weight `conv_key` and BN `bn_prefix`, folds the BN, and builds the op.
Result<std::unique_ptr<kernels::ConvOp>> FoldedConv(const WeightTable& w, OpFactory& factory,
                                                    const std::string& conv_key, const std::string& bn_prefix,
                                                    const kernels::ConvParams& p) {
  std::string op_id = conv_key.substr(0, conv_key.size() - std::string(".weight").size());
  std::vector<std::string> keys = {conv_key, bn_prefix + ".weight", bn_prefix + ".bias", bn_prefix + ".running_mean",
                                   bn_prefix + ".running_var"};
  return factory.Conv("backbone", op_id, keys, p, [&]() -> Result<DenseWeights> {
  EMBODY_ASSIGN_OR_RETURN(Tensor weight, w.ReadF32(conv_key));
  EMBODY_ASSIGN_OR_RETURN(Tensor gamma, w.ReadF32(bn_prefix + ".weight"));
  EMBODY_ASSIGN_OR_RETURN(Tensor beta, w.ReadF32(bn_prefix + ".bias"));
  EMBODY_ASSIGN_OR_RETURN(Tensor mean, w.ReadF32(bn_prefix + ".running_mean"));
  EMBODY_ASSIGN_OR_RETURN(Tensor var, w.ReadF32(bn_prefix + ".running_var"));
  const int64_t per_out = weight.numel() / p.out_c;
  std::vector<float> bias(static_cast<size_t>(p.out_c));
  float* wd = weight.data<float>();
  for (int64_t o = 0; o < p.out_c; ++o) {
    // Same float32 arithmetic as torchvision's FrozenBatchNorm2d.
    const float scale = gamma.data<float>()[o] * (1.0f / std::sqrt(var.data<float>()[o] + kFrozenBnEps));
    bias[static_cast<size_t>(o)] = beta.data<float>()[o] - mean.data<float>()[o] * scale;
    for (int64_t i = 0; i < per_out; ++i) wd[o * per_out + i] *= scale;
  }
  return DenseWeights{std::vector<float>(wd, wd + weight.numel()), std::move(bias)};
  });
}

}  // namespace

Result<std::unique_ptr<ResNetBackbone>> ResNetBackbone::Create(const ActConfig& c, const WeightTable& w,
                                                               OpFactory& factory, int64_t height,
                                                               int64_t width, bool winograd, Arena& arena) {
  auto bb = std::make_unique<ResNetBackbone>();
  size_t max_bytes = 0;
  kernels::ConvParams stem{3, 64, height, width, 7, 2, 3, true, false, true};
  EMBODY_ASSIGN_OR_RETURN(bb->stem_, FoldedConv(w, factory, "model.backbone.conv1.weight", "model.backbone.bn1", stem));
  max_bytes = std::max(max_bytes, bb->stem_->dst_bytes());
  kernels::PoolParams pool{64, stem.out_h(), stem.out_w(), 3, 2, 1};
  EMBODY_ASSIGN_OR_RETURN(bb->pool_, kernels::MakeMaxPool(factory.backend(), pool));
  max_bytes = std::max(max_bytes, bb->pool_->dst_bytes());
  int64_t h = pool.out_h(), wd = pool.out_w(), in_ch = 64;
  for (int s = 0; s < 4; ++s) {
    const int64_t ch = ResNetChannels(s);
    for (int b = 0; b < ResNetBlocks(c, s); ++b) {
      const std::string p = "model.backbone.layer" + std::to_string(s + 1) + "." + std::to_string(b);
      const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
      const int64_t cin = b == 0 ? in_ch : ch;
      Block blk;
      kernels::ConvParams p1{cin, ch, h, wd, 3, stride, 1, true, false, false, winograd};
      EMBODY_ASSIGN_OR_RETURN(blk.conv1, FoldedConv(w, factory, p + ".conv1.weight", p + ".bn1", p1));
      kernels::ConvParams p2{ch, ch, p1.out_h(), p1.out_w(), 3, 1, 1, true, true, false, winograd};
      EMBODY_ASSIGN_OR_RETURN(blk.conv2, FoldedConv(w, factory, p + ".conv2.weight", p + ".bn2", p2));
      if (b == 0 && s > 0) {
        kernels::ConvParams pd{cin, ch, h, wd, 1, 2, 0, false, false, false};
        EMBODY_ASSIGN_OR_RETURN(blk.downsample,
                                FoldedConv(w, factory, p + ".downsample.0.weight", p + ".downsample.1", pd));
      }
      max_bytes = std::max({max_bytes, blk.conv1->dst_bytes(), blk.conv2->dst_bytes()});
      h = p1.out_h();
      wd = p1.out_w();
      bb->blocks_.push_back(std::move(blk));
    }
    in_ch = ch;
  }
  bb->out_h_ = h;
  bb->out_w_ = wd;
  EMBODY_ASSIGN_OR_RETURN(bb->to_tokens_, kernels::MakeToTokens(factory.backend(), kOutChannels, h, wd));
  for (size_t& off : bb->buf_offset_) off = arena.Reserve(max_bytes);
  return bb;
}

void ResNetBackbone::BindArena(const Arena& arena) {
  for (int i = 0; i < 3; ++i) buf_[i] = arena.At(buf_offset_[i]);
}

void ResNetBackbone::Run(const float* image, float* tokens) {
  // Three rotating buffers: block input/output, block middle, and the downsampled shortcut.
  // conv2 accumulates onto the shortcut in place, so no block copies anything.
  stem_->Run(image, buf_[1]);
  pool_->Run(buf_[1], buf_[0]);
  int cur = 0;
  for (Block& b : blocks_) {
    const int mid = (cur + 1) % 3, other = (cur + 2) % 3;
    b.conv1->Run(buf_[cur], buf_[mid]);
    if (b.downsample) {
      b.downsample->Run(buf_[cur], buf_[other]);
      b.conv2->Run(buf_[mid], buf_[other], buf_[other]);  // accumulate onto the shortcut
      cur = other;
    } else {
      b.conv2->Run(buf_[mid], buf_[cur], buf_[cur]);  // accumulate onto the block input
    }
  }
  to_tokens_->Run(buf_[cur], tokens);
}

}  // namespace embody::models::act
