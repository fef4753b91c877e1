// LLM block: the SmolLM2 text model truncated to num_vlm_layers, run once over the prefix
// [image tokens, language tokens, state token] with LeRobot's masks (images and language attend
// bidirectionally and do not see the state; the state sees everything) and RoPE base 10000,
// producing the prefix KV cache. Pad tokens are dropped: LeRobot masks them and does not advance
// positions over them, so the valid tokens' results are identical.
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"
#include "models/smolvla/prefix_cache.h"
#include "models/smolvla/smolvla_config.h"

namespace embody::models::smolvla {

class TextPrefill {
 public:
  static Result<std::unique_ptr<TextPrefill>> Create(const SmolVlaConfig& c, const WeightTable& w,
                                                     OpFactory& factory, int64_t max_prefix);
  // Embeds token ids (scaled by sqrt(hidden)) into rows of `embeds`. Errors on ids out of range.
  Status EmbedTokens(const int32_t* ids, int64_t n, float* embeds) const;
  // embeds: [length, hidden] (images, language, state), consumed as scratch. Fills cache.k/v.
  void Run(float* embeds, int64_t length, PrefixCache& cache);

 private:
  struct Layer {
    std::vector<float> ln_in, ln_post;
    std::unique_ptr<kernels::LinearOp> qkv, o, gate_up, down;
  };
  int64_t d_ = 0, q_dim_ = 0, kv_dim_ = 0, inter_ = 0, heads_ = 0, kv_heads_ = 0, head_dim_ = 0, vocab_ = 0;
  float eps_ = 1e-5f;
  std::vector<float> embed_tokens_;  // [vocab, d]
  std::vector<Layer> layers_;
  std::unique_ptr<kernels::GqaAttentionOp> attn_;
  std::vector<float> h_, qkv_, att_, gu_, mlp_;
  std::vector<int32_t> positions_, kv_len_;
};

}  // namespace embody::models::smolvla
