// PrecisionPlan: which weight format each block of a model computes in, with optional
// per-layer overrides. The unit is the block because that is how tolerance to quantization
// differs (NXP's finding, confirmed by `embody quantize --report`): SmolVLA's vision encoder and
// LLM prefill take int8 (partly int4) weights, while the flow-matching expert, which feeds its
// own output back ten times, stays in float.
//
// Text form (the --plan flag and the quantized model's metadata):
//   "vision=int8,llm=int4,expert=f32"               blocks by name
//   "llm=int8,model.vlm_with_expert.vlm.model.text_model.layers.0=f32"
//                                                    a key with a dot is an op-id prefix that
//                                                    overrides its block (longest prefix wins)
//   "encoder=bf16,model.encoder.layers.*.linear1=int8"
//                                                    `*` stands for any one segment (a layer
//                                                    number); a literal segment wins a tie
// Blocks not named stay f32. Every name is checked: an unknown block or format is an error that
// lists the valid ones, and an override that matches no op is reported when the model loads.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "kernels/quant/quant_linear.h"

namespace embody::models {

class PrecisionPlan {
 public:
  // All blocks f32.
  PrecisionPlan() = default;

  // `blocks` are the model's block names (ActBlocks() / SmolVlaBlocks()).
  static Result<PrecisionPlan> Parse(std::string_view text, const std::vector<std::string>& blocks);

  // The format for op `op_id` of `block`: the most specific override matching op_id, else the
  // block's.
  kernels::WeightFormat For(std::string_view block, std::string_view op_id) const;
  // Records that an override matched an op (for the unmatched-override check).
  void MarkUsed(std::string_view op_id) const;
  // Overrides that matched no op so far.
  std::vector<std::string> UnusedOverrides() const;

  bool all_f32() const;
  // Canonical text: blocks in the model's order, then overrides sorted.
  std::string ToString() const;
  const std::map<std::string, kernels::WeightFormat>& blocks() const { return block_format_; }

 private:
  std::vector<std::string> block_order_;
  std::map<std::string, kernels::WeightFormat> block_format_;
  std::map<std::string, kernels::WeightFormat> overrides_;
  mutable std::map<std::string, bool> override_used_;
};

}  // namespace embody::models
