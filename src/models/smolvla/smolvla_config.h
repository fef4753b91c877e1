// SmolVLA's config.json (LeRobot's SmolVLAConfig, "type": "smolvla") and the SmolVLM2 backbone
// hyper-parameters it depends on.
//
// A real checkpoint names its backbone ("vlm_model_name") and LeRobot fetches that model's
// config from the hub. embody knows SmolVLM2-500M-Video-Instruct's values (lerobot-models.md
// 4.2) and reads an optional `vlm_config.json` (a transformers SmolVLMConfig) next to
// config.json for anything else; every dimension is then checked against the weights.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "models/common/features.h"

namespace embody::models::smolvla {

struct VisionConfig {
  int hidden = 768, layers = 12, heads = 12, intermediate = 3072, patch = 16, image_size = 512;
  float eps = 1e-6f;
};

struct TextConfig {
  int hidden = 960, layers = 32, heads = 15, kv_heads = 5, head_dim = 64, intermediate = 2560, vocab = 49280;
  float eps = 1e-5f;
};

struct VlmConfig {
  VisionConfig vision;
  TextConfig text;
  int scale_factor = 4;
  std::string source = "built-in SmolVLM2-500M-Video-Instruct";
};

struct SmolVlaConfig {
  int chunk_size = 50;
  int n_action_steps = 50;
  int max_state_dim = 32;
  int max_action_dim = 32;
  int resize_width = 512, resize_height = 512;  // resize_imgs_with_padding, stored (width, height)
  int tokenizer_max_length = 48;
  bool pad_to_max_length = false;  // pad_language_to == "max_length"
  int num_steps = 10;
  int num_vlm_layers = 16;
  int self_attn_every_n_layers = 2;
  double expert_width_multiplier = 0.75;
  double min_period = 4e-3, max_period = 4.0;
  std::string vlm_model_name = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct";

  std::vector<Feature> inputs, outputs;
  NormMapping normalization;
  std::vector<int> camera_index;
  int state_index = -1, action_index = -1;
  std::vector<std::string> unknown_fields;

  VlmConfig vlm;
  // Derived.
  int expert_hidden = 720, expert_intermediate = 2048;
  int num_layers = 16;  // text layers kept == expert layers

  size_t num_cameras() const { return camera_index.size(); }
  const Feature& camera(size_t i) const { return inputs[static_cast<size_t>(camera_index[i])]; }
  int64_t state_dim() const { return state_index < 0 ? 0 : inputs[static_cast<size_t>(state_index)].shape[0]; }
  int64_t action_dim() const { return outputs[static_cast<size_t>(action_index)].shape[0]; }
  // Tokens one camera adds to the prefix.
  int tokens_per_image() const {
    const int grid = vlm.vision.image_size / vlm.vision.patch;
    return (grid / vlm.scale_factor) * (grid / vlm.scale_factor);
  }
  int patches_per_image() const {
    const int grid = vlm.vision.image_size / vlm.vision.patch;
    return grid * grid;
  }
  bool is_self_attn_layer(int layer) const {
    return self_attn_every_n_layers > 0 && layer % self_attn_every_n_layers == 0;
  }
};

// LeRobot's get_intermediate_size(hidden): 256 * ceil(4 * int(2 * hidden / 3) / 256).
int ExpertIntermediateSize(int hidden);

// Parses config.json, then dir/vlm_config.json if present.
Result<SmolVlaConfig> LoadSmolVlaConfig(const std::string& dir);
Result<SmolVlaConfig> ParseSmolVlaConfig(const io::Json& j, const std::string& path);
Status ApplyVlmConfig(const io::Json& j, const std::string& path, VlmConfig& vlm);

}  // namespace embody::models::smolvla
