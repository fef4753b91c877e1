// ACT's config.json (LeRobot's ACTConfig, "type": "act"), parsed and validated.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "kernels/ops.h"
#include "models/common/features.h"

namespace embody::models::act {

struct ActConfig {
  int chunk_size = 100;
  int n_action_steps = 100;
  std::string vision_backbone = "resnet18";
  bool replace_final_stride_with_dilation = false;
  bool pre_norm = false;
  int dim_model = 512;
  int n_heads = 8;
  int dim_feedforward = 3200;
  kernels::Activation feedforward_activation = kernels::Activation::kRelu;
  int n_encoder_layers = 4;
  int n_decoder_layers = 1;
  bool use_vae = true;
  int latent_dim = 32;
  int n_vae_encoder_layers = 4;
  std::optional<double> temporal_ensemble_coeff;

  std::vector<Feature> inputs;   // config order; VISUAL order is camera order
  std::vector<Feature> outputs;
  NormMapping normalization;

  // Derived from the features (indices, so the struct copies safely).
  std::vector<int> camera_index;  // every VISUAL input, in camera order
  int state_index = -1;           // "observation.state" in inputs, or -1
  int env_state_index = -1;       // "observation.environment_state" in inputs, or -1
  int action_index = -1;          // "action" in outputs

  size_t num_cameras() const { return camera_index.size(); }
  const Feature& camera(size_t i) const { return inputs[static_cast<size_t>(camera_index[i])]; }
  const Feature* state() const { return state_index < 0 ? nullptr : &inputs[static_cast<size_t>(state_index)]; }
  const Feature* env_state() const {
    return env_state_index < 0 ? nullptr : &inputs[static_cast<size_t>(env_state_index)];
  }
  const Feature& action() const { return outputs[static_cast<size_t>(action_index)]; }
  int64_t state_dim() const { return state_index < 0 ? 0 : state()->shape[0]; }
  int64_t env_state_dim() const { return env_state_index < 0 ? 0 : env_state()->shape[0]; }
  int64_t action_dim() const { return action().shape[0]; }
  // Tokens before the image tokens: latent, state, env_state.
  int64_t num_1d_tokens() const { return 1 + (state_index >= 0) + (env_state_index >= 0); }

  // Fields config.json had that this parser does not know (LeRobot adds fields over versions;
  // they are reported, not fatal).
  std::vector<std::string> unknown_fields;
};

// Derives camera/state/action indices from inputs/outputs and checks them (shapes, required
// features). Called by ParseActConfig, and again after anything rewrites the features.
Status ResolveFeatures(ActConfig& c, const std::string& path);

// Parses and validates `path` (a config.json). Errors name the file and field.
Result<ActConfig> ParseActConfig(const io::Json& j, const std::string& path);
Result<ActConfig> LoadActConfig(const std::string& path);

}  // namespace embody::models::act
