// ResNet18/34 trunk (torchvision, up to layer4) with LeRobot's FrozenBatchNorm2d folded into
// each convolution: y = conv(x)·s + (b − rm·s), s = w / sqrt(rv + eps), so the BN costs nothing.
#pragma once

#include <memory>
#include <vector>

#include "core/arena.h"
#include "kernels/ops.h"
#include "models/act/act_config.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"

namespace embody::models::act {

class ResNetBackbone {
 public:
  // Builds the ops for one [3, height, width] camera image; reserves its scratch in `arena`.
  static Result<std::unique_ptr<ResNetBackbone>> Create(const ActConfig& c, const WeightTable& w,
                                                        OpFactory& factory, int64_t height,
                                                        int64_t width, bool winograd, Arena& arena);
  // Call once after arena.Commit().
  void BindArena(const Arena& arena);

  int64_t out_h() const { return out_h_; }
  int64_t out_w() const { return out_w_; }
  static constexpr int64_t kOutChannels = 512;

  // image: normalized float [3, H, W] (plain NCHW); tokens: [out_h*out_w, 512] row-major.
  void Run(const float* image, float* tokens);

 private:
  struct Block {
    std::unique_ptr<kernels::ConvOp> conv1, conv2, downsample;
  };
  std::unique_ptr<kernels::ConvOp> stem_;
  std::unique_ptr<kernels::PoolOp> pool_;
  std::vector<Block> blocks_;
  std::unique_ptr<kernels::ToTokensOp> to_tokens_;
  int64_t out_h_ = 0, out_w_ = 0;
  size_t buf_offset_[3] = {0, 0, 0};
  void* buf_[3] = {nullptr, nullptr, nullptr};
};

}  // namespace embody::models::act
