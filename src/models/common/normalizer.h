// Normalization of inputs and un-normalization of actions with a checkpoint's own statistics.
//
// Two storage layouts exist (lerobot-models.md section 2):
//   * LeRobot >= 0.4: policy_preprocessor.json / policy_postprocessor.json name a
//     "normalizer_processor" / "unnormalizer_processor" step whose state_file holds
//     "<feature>.<stat>" tensors;
//   * LeRobot <= 0.3: buffers inside model.safetensors, "normalize_inputs.buffer_<key with _>.mean"
//     and "unnormalize_outputs.buffer_action.mean".
// Callers always see robot units: the Policy normalizes on the way in and un-normalizes on the
// way out.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/safetensors.h"
#include "models/common/features.h"

namespace embody::models {

struct FeatureNorm {
  std::string key;
  FeatureType type;
  NormMode mode = NormMode::kIdentity;
  // MEAN_STD: offset = mean, scale = std (+ eps when normalizing);
  // MIN_MAX / QUANTILES / QUANTILE10: offset = low bound, scale = high - low (eps where 0).
  std::vector<float> offset, scale;
  float eps = 1e-8f;
  bool stats_missing = false;  // mode says normalize, stats absent: LeRobot passes through
};

class Normalizer {
 public:
  // dir: the pretrained_model folder. model_file: its model.safetensors (legacy buffers).
  static Result<Normalizer> Load(const std::string& dir, const std::vector<Feature>& inputs,
                                 const std::vector<Feature>& outputs, const NormMapping& mapping,
                                 const io::SafetensorsFile& model_file);

  // "processor files (LeRobot >= 0.4)", "model.safetensors buffers (LeRobot <= 0.3)" or "none".
  const std::string& source() const { return source_; }
  const std::vector<FeatureNorm>& features() const { return features_; }
  // nullptr if the key is not normalized.
  const FeatureNorm* Find(const std::string& key) const;

  // x has n values; `inner` consecutive values share one statistic (H*W for a CHW image,
  // 1 for a vector). Identity features are left unchanged.
  // Gives feature `to` the statistics of `from` (benchmarks that add cameras). No-op if `from`
  // is unknown.
  void CopyStats(const std::string& from, const std::string& to);

  static void Normalize(const FeatureNorm& f, float* x, int64_t n, int64_t inner = 1);
  static void Unnormalize(const FeatureNorm& f, float* x, int64_t n, int64_t inner = 1);

 private:
  std::string source_ = "none";
  std::vector<FeatureNorm> features_;
};

}  // namespace embody::models
