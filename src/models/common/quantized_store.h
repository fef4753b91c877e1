// A quantized checkpoint: what `embody quantize` writes and every model loader reads.
//
// Folder layout (a LeRobot checkpoint folder plus two files, so config, normalizer and tokenizer
// handling stay the same):
//   config.json, policy_*processor*.json/.safetensors, tokenizer files   copied from the source
//   model.safetensors       the source tensors that no quantized op replaces (norms, embeddings,
//                           f32 blocks), in their original dtype
//   quantized.safetensors   per quantized op "<op_id>.packed" (U8, the portable layout of
//                           kernels/quant/FORMATS.md), "<op_id>.scales" (F32) and "<op_id>.bias" (F32)
//   embody_quant.json       {"format_version": 1, "model_type", "plan", "source": {"path",
//                           "model_hash", "model_bytes"}, "static_activations": bool,
//                           "ops": {"<op_id>": {"block", "format", "n", "k", "conv",
//                           "source_keys": [...], "activation_absmax"}}, "superseded": [...]}
// "superseded" lists the source tensors that exist only as packed ops; the weight table accepts
// their absence. The packed layout is portable: kernels repack for the CPU at load, so a file
// made on x86 runs on ARM and falls back to the scalar kernels where an instruction is missing.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/safetensors.h"
#include "kernels/quant/quant_linear.h"
#include "models/common/op_factory.h"

namespace embody::models {

inline constexpr int kQuantFormatVersion = 1;
inline constexpr const char* kQuantMetadataFile = "embody_quant.json";

struct StoredOp {
  std::string block;
  kernels::WeightFormat format = kernels::WeightFormat::kF32;
  int64_t n = 0, k = 0;
  bool conv = false;
  float activation_absmax = 0;
};

class QuantizedStore {
 public:
  // nullptr (and OK) when `dir` has no embody_quant.json: a plain LeRobot checkpoint.
  // Errors name the file and field: another format version, a model type other than
  // `model_type`, ops whose tensors are missing or mis-sized.
  static Result<std::unique_ptr<QuantizedStore>> Open(const std::string& dir, const std::string& model_type);

  const std::string& plan_text() const { return plan_; }
  bool static_activations() const { return static_activations_; }
  const std::set<std::string>& superseded() const { return superseded_; }
  const std::map<std::string, StoredOp>& ops() const { return ops_; }
  const StoredOp* Find(const std::string& op_id) const;
  // The op's packed weights and bias (copied out of the mapping).
  Result<kernels::PackedWeights> Packed(const std::string& op_id) const;
  Result<std::vector<float>> Bias(const std::string& op_id) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_, plan_;
  bool static_activations_ = false;
  std::map<std::string, StoredOp> ops_;
  std::set<std::string> superseded_;
  std::shared_ptr<io::SafetensorsFile> file_;
};

struct QuantizeOutput {
  int64_t model_bytes = 0, quantized_bytes = 0;  // the two safetensors files written
  int64_t source_model_bytes = 0;                // the source checkpoint's model.safetensors
  int ops_quantized = 0;
  int64_t superseded_tensors = 0;
};

// Writes a quantized checkpoint to `out_dir` from `src_dir` and the ops captured while a model
// loaded with `plan`. The folder is built under "<out_dir>.tmp" and renamed at the end, so an
// interrupted run never leaves a half-written model where a loader would pick it up.
Result<QuantizeOutput> WriteQuantizedCheckpoint(const std::string& src_dir, const std::string& out_dir,
                                                const std::string& model_type, const std::string& plan_text,
                                                const QuantCapture& capture, bool static_activations);

// A 64-bit content hash of a file (FNV-1a over 8-byte words), for "which checkpoint was this".
Result<std::string> HashFile(const std::string& path);

}  // namespace embody::models
