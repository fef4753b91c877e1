// The prefix key/value cache the LLM block produces and the action expert consumes.
//
// Per layer, K and V hold [max_prefix + chunk, kv_heads * head_dim] rows: rows [0, length) are
// the prefix (K after RoPE), rows [length, length + chunk) are scratch where the expert's
// self-attention layers put their own keys and values each denoising step. Cross-attention
// layers also keep the prefix K/V re-projected by the expert (cross_k/cross_v, [length, kv]),
// which depend only on the prefix and are computed once per chunk, not once per step.
#pragma once

#include <cstdint>
#include <vector>

namespace embody::models::smolvla {

struct PrefixCache {
  int64_t length = 0;  // valid prefix tokens (pads dropped)
  int64_t kv_dim = 0;
  std::vector<std::vector<float>> k, v;              // [layers][(max_prefix + chunk) * kv_dim]
  std::vector<std::vector<float>> cross_k, cross_v;  // [layers][max_prefix * kv_dim], cross layers only
  bool valid() const { return length > 0; }
};

}  // namespace embody::models::smolvla
