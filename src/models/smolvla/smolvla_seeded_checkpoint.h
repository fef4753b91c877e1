// Writes a LeRobot-layout SmolVLA checkpoint with seeded weights (docs/formats/seeded-weights.md):
// config.json, vlm_config.json (the backbone's transformers config, which LeRobot would fetch
// from the hub), model.safetensors, the processor files, and tokenizer/ copied from a folder of
// the SmolVLM2 tokenizer files. For benchmarks and tests; real weights cannot be downloaded here.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "models/smolvla/smolvla_config.h"

namespace embody::models::smolvla {

struct SeededSmolVlaSpec {
  std::vector<std::string> cameras = {"camera1", "camera2", "camera3"};
  int height = 512, width = 512;
  int state_dim = 6, action_dim = 6;
  int chunk_size = 50, n_action_steps = 50, num_steps = 10;
  int num_vlm_layers = 16;
  VlmConfig vlm;  // defaults: SmolVLM2-500M
  std::string tokenizer_dir;  // folder holding tokenizer.json (and friends)
  uint64_t seed = 0;
};

Status WriteSeededSmolVlaCheckpoint(const std::string& dir, const SeededSmolVlaSpec& spec);

}  // namespace embody::models::smolvla
