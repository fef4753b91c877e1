// ACT's training-relevant config fields (LeRobot's ACTConfig) and the dataset features a run
// trains on; written into, and read back from, a checkpoint's config.json. No libtorch here, so
// the CLI, the checkpoint writer and the tests compile without it.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace embody::train {

// Defaults are LeRobot 0.4.4's ACTConfig defaults.
struct ActHparams {
  int chunk_size = 100;
  int n_action_steps = 100;
  std::string vision_backbone = "resnet18";  // resnet18 or resnet34 (no dilation: torchvision rejects it)
  bool pre_norm = false;
  int dim_model = 512;
  int n_heads = 8;
  int dim_feedforward = 3200;
  std::string feedforward_activation = "relu";  // relu or gelu
  int n_encoder_layers = 4;
  int n_decoder_layers = 1;
  bool use_vae = true;
  int latent_dim = 32;
  int n_vae_encoder_layers = 4;
  double dropout = 0.1;
  double kl_weight = 10.0;
  double optimizer_lr = 1e-5;
  double optimizer_weight_decay = 1e-4;
  double optimizer_lr_backbone = 1e-5;
  bool use_amp = false;  // PreTrainedConfig.use_amp: the forward pass under bf16 autocast (CPU)
};

// What the policy sees of a dataset: camera feature keys (observation.images.<name>, camera
// order), their common size, state and action widths, and the recording rate.
struct TrainFeatures {
  std::vector<std::string> cameras;
  int height = 0, width = 0;
  int state_dim = 0;  // 0: no observation.state
  int env_state_dim = 0;  // 0: no observation.environment_state
  int action_dim = 0;
  double fps = 30;
};

// Checks ranges and combinations (chunk vs n_action_steps, heads divide dim_model, ...).
// Errors name the field.
Status ValidateHparams(const ActHparams& h);

// LeRobot's config.json for "type": "act" (every field ACTConfig has, so LeRobot's draccus
// parser accepts it and embody's ParseActConfig reads it).
io::Json MakeActConfigJson(const ActHparams& h, const TrainFeatures& f);

// Reads the fields back from a config.json (for --resume and for fine-tuning a checkpoint).
// Errors name `path` and the field.
Status ReadActConfigJson(const io::Json& j, const std::string& path, ActHparams* h, TrainFeatures* f);

}  // namespace embody::train
