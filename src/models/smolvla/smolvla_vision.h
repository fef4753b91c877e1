// Vision block: SigLIP encoder as SmolVLM configures it (patch embedding, learned positions,
// pre-LN transformer, post-LN), pixel shuffle and the connector projection, then LeRobot's
// sqrt(hidden) scaling. One camera at a time; shapes fixed at load.
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"
#include "models/smolvla/smolvla_config.h"

namespace embody::models::smolvla {

class VisionEncoder {
 public:
  // bucketized_position_ids: reproduce transformers >= 4.55's float32 SigLIP position ids.
  static Result<std::unique_ptr<VisionEncoder>> Create(const SmolVlaConfig& c, const WeightTable& w,
                                                       OpFactory& factory, bool bucketized_position_ids);
  const std::vector<int32_t>& position_ids() const { return position_ids_; }
  // frame: uint8 HWC (h x w); tokens: [tokens_per_image, text hidden], already scaled.
  void Run(const uint8_t* frame, int h, int w, float* tokens);
  // The preprocessed image of the last Run ([3, S, S], in [-1, 1]), for parity checks.
  const std::vector<float>& last_image() const { return image_; }

 private:
  struct Layer {
    std::unique_ptr<kernels::LayerNormOp> ln1, ln2;
    std::unique_ptr<kernels::LinearOp> qkv, out, fc1, fc2;
  };
  // Attention has no weights: one op (and one score buffer) serves every layer.
  std::unique_ptr<kernels::AttentionOp> attn_;
  int size_ = 0, patch_ = 0, grid_ = 0, n_ = 0, dv_ = 0, dt_ = 0, scale_ = 0;
  std::unique_ptr<kernels::LinearOp> patch_embed_, connector_;
  std::vector<float> pos_;  // [n, dv]: the position embedding row of each patch
  std::vector<int32_t> position_ids_;
  std::vector<Layer> layers_;
  std::unique_ptr<kernels::LayerNormOp> post_ln_;
  // Scratch.
  std::vector<float> image_, patches_, x_, x_alt_, h_, qkv_, attn_out_, mlp_, shuffled_;
};

}  // namespace embody::models::smolvla
