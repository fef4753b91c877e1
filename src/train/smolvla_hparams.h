// SmolVLA's training-relevant config fields (LeRobot 0.4.4's SmolVLAConfig) and the backbone
// dimensions a from-scratch run chooses; written into a checkpoint's config.json (+ vlm_config.json,
// the transformers SmolVLMConfig LeRobot would fetch from the hub) and read back for --resume.
// No libtorch here, so the CLI and the checkpoint writer compile without it.
#pragma once

#include <string>

#include "core/status.h"
#include "io/json_file.h"
#include "models/smolvla/smolvla_config.h"
#include "train/act_hparams.h"

namespace embody::train {

// Defaults are SmolVLAConfig's (LeRobot 0.4.4) and SmolVLM2-500M's backbone.
struct SmolVlaHparams {
  int chunk_size = 50;
  int n_action_steps = 50;
  int num_steps = 10;  // Euler steps at inference (not used by the training loss)
  int max_state_dim = 32;
  int max_action_dim = 32;
  int tokenizer_max_length = 48;
  std::string pad_language_to = "longest";  // or "max_length"
  int num_vlm_layers = 16;
  int self_attn_every_n_layers = 2;
  double expert_width_multiplier = 0.75;
  double min_period = 4e-3, max_period = 4.0;
  bool freeze_vision_encoder = true;
  bool train_expert_only = true;
  bool train_state_proj = true;
  double optimizer_lr = 1e-4;
  double optimizer_beta1 = 0.9, optimizer_beta2 = 0.95;
  double optimizer_eps = 1e-8;
  double optimizer_weight_decay = 1e-10;
  double optimizer_grad_clip_norm = 10;
  int scheduler_warmup_steps = 1000;
  int scheduler_decay_steps = 30000;
  double scheduler_decay_lr = 2.5e-6;
  models::smolvla::VlmConfig vlm;  // the backbone's dimensions (SmolVLM2-500M by default)

  // Not SmolVLAConfig fields (train_config.json records them):
  // LeRobot 0.4.4's SmolVLAPolicy.forward reads the pad flags from batch["actions_id_pad"], a key
  // no dataset provides, so its loss never masks the steps past an episode's end. true masks them
  // as the code intends (and as ACT does); false reproduces LeRobot 0.4.4's effective loss.
  bool mask_padded_actions = true;
  // SigLIP position ids of the training graph: exact (embody's runtime default) or
  // transformers >= 4.55's float32 bucketize (docs/KNOWN_ISSUES.md).
  bool transformers_fp32_position_ids = false;
  // The instruction for frames whose source has none.
  std::string default_task = "put the tea bag in the mug";
};

// A backbone small enough to train from scratch on a CPU: SigLIP 64x64 (patch 8, 2 layers, width
// 96), pixel shuffle 2 (16 tokens per camera), SmolLM2-style text 4 layers of width 128 (GQA 4/2,
// head 32), expert width 96. The vocabulary stays SmolVLM2's (the tokenizer is the real one).
models::smolvla::VlmConfig SmallVlm();
// Smaller still, for tests (seconds per run): 32x32 images, 1 vision and 2 text layers, width 32.
models::smolvla::VlmConfig TinyVlm();
// "base" (SmolVLM2-500M), "small" or "tiny"; InvalidArgument otherwise.
Result<models::smolvla::VlmConfig> VlmPreset(const std::string& name);

// Ranges and combinations (heads divide widths, image size a multiple of patch * scale, ...).
// Errors name the field.
Status ValidateSmolVlaHparams(const SmolVlaHparams& h, const TrainFeatures& f);

// Expert width as LeRobot derives it (int(text hidden * expert_width_multiplier)).
int ExpertHidden(const SmolVlaHparams& h);
// Text (= expert) layers kept: LeRobot slices layers[:num_vlm_layers], so a larger value keeps all.
int NumLayers(const SmolVlaHparams& h);

// LeRobot's config.json for "type": "smolvla" (every SmolVLAConfig field) and the backbone's
// transformers config (vlm_config.json, read by embody's runtime).
io::Json MakeSmolVlaConfigJson(const SmolVlaHparams& h, const TrainFeatures& f);
io::Json MakeVlmConfigJson(const models::smolvla::VlmConfig& v);

// Reads a pretrained_model folder's config.json and vlm_config.json back (--resume, --init-from,
// the training graph's sampling). Errors name the file and the field.
Status ReadSmolVlaConfig(const std::string& pretrained_dir, SmolVlaHparams* h, TrainFeatures* f);

}  // namespace embody::train
