// ACT's transformer: encoder layers, decoder layers and their final norms, as LeRobot's
// ACTEncoderLayer / ACTDecoderLayer compute them (post-norm by default, pre-norm optional).
// Positions are added to queries and keys only, at every layer.
#pragma once

#include <memory>
#include <vector>

#include "core/arena.h"
#include "kernels/ops.h"
#include "models/act/act_config.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"

namespace embody::models::act {

// Scratch shared by all layers of one model, sized for the longest sequence.
struct TransformerScratch {
  float* pos_sum = nullptr;  // [max_s, d]   x + pos
  float* qk = nullptr;       // [max_s, 2d]  fused query/key projection
  float* v = nullptr;        // [max_s, d]
  float* attn = nullptr;     // [max_s, d]   attention output before out_proj
  float* tmp = nullptr;      // [max_s, d]
  float* normed = nullptr;   // [max_s, d]   pre-norm input
  float* hidden = nullptr;   // [max_s, f]   feed-forward hidden
  float* k_cross = nullptr;  // [enc_s, d]   decoder cross-attention keys
  float* v_cross = nullptr;  // [enc_s, d]
};

struct TransformerPlan {
  size_t pos_sum, qk, v, attn, tmp, normed, hidden, k_cross, v_cross;
  static TransformerPlan Reserve(Arena& arena, int64_t max_s, int64_t enc_s, int64_t d, int64_t f);
  TransformerScratch Bind(const Arena& arena) const;
};

class ActEncoder {
 public:
  static Result<std::unique_ptr<ActEncoder>> Create(const ActConfig& c, const WeightTable& w,
                                                    OpFactory& factory, int64_t seq);
  // x: [seq, d] in/out; pos: [seq, d]. `x_alt` is a second [seq, d] buffer the layers may swap
  // with x; returns the buffer holding the result (x or x_alt).
  float* Run(float* x, float* x_alt, const float* pos, const TransformerScratch& s);

 private:
  struct Layer {
    std::unique_ptr<kernels::LinearOp> qk, v, out, ff1, ff2;
    std::unique_ptr<kernels::LayerNormOp> norm1, norm2;
  };
  std::vector<Layer> layers_;
  // Attention has no weights: one op (and one score buffer) serves every layer.
  std::unique_ptr<kernels::AttentionOp> attn_;
  std::unique_ptr<kernels::LayerNormOp> final_norm_;  // pre-norm only
  int64_t seq_ = 0, d_ = 0;
  bool pre_norm_ = false;
};

class ActDecoder {
 public:
  static Result<std::unique_ptr<ActDecoder>> Create(const ActConfig& c, const WeightTable& w,
                                                    OpFactory& factory, int64_t enc_seq);
  // enc: encoder output [enc_seq, d]; enc_pos_sum: enc + pos [enc_seq, d]; query_pos:
  // [chunk, d]; y, y_alt: [chunk, d] buffers. Returns the buffer holding the normed output.
  float* Run(const float* enc, const float* enc_pos_sum, const float* query_pos, float* y, float* y_alt,
             const TransformerScratch& s);

 private:
  struct Layer {
    std::unique_ptr<kernels::LinearOp> sa_qk, sa_v, sa_out, ca_q, ca_k, ca_v, ca_out, ff1, ff2;
    std::unique_ptr<kernels::LayerNormOp> norm1, norm2, norm3;
  };
  std::vector<Layer> layers_;
  std::unique_ptr<kernels::AttentionOp> sa_, ca_;  // shared by all layers
  std::unique_ptr<kernels::LayerNormOp> final_norm_;
  int64_t chunk_ = 0, d_ = 0;
  bool pre_norm_ = false;
};

// dst[i] = a[i] + b[i] for n elements, in parallel on the calling thread's OpenMP team.
void AddInto(const float* a, const float* b, float* dst, int64_t n);

}  // namespace embody::models::act
