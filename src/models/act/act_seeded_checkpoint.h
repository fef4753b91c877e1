// Writes a complete LeRobot-layout ACT checkpoint (config.json, model.safetensors, processor
// files) whose weights come from the seeded rule of docs/formats/seeded-weights.md. Used by the
// demo, the benchmarks and the tests, since real weights cannot be downloaded here. The files
// have the layout LeRobot 0.4 writes; the golden cases under testdata/ hold LeRobot's own.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace embody::models::act {

struct SeededActSpec {
  std::vector<std::string> cameras = {"top", "gripper", "left"};  // observation.images.<name>
  int height = 480, width = 640;
  int state_dim = 6;  // 0: no observation.state
  int action_dim = 6;
  int chunk_size = 100, n_action_steps = 100;
  int dim_model = 512, n_heads = 8, dim_feedforward = 3200, n_encoder_layers = 4, n_decoder_layers = 1;
  bool bf16 = false;           // store weights as bfloat16
  bool legacy_layout = false;  // stats inside model.safetensors (LeRobot <= 0.3)
  uint64_t seed = 0;
};

// Creates `dir` if needed and writes the checkpoint. Also writes the VAE encoder tensors (unused
// at inference) so the file has every key LeRobot's does.
Status WriteSeededActCheckpoint(const std::string& dir, const SeededActSpec& spec);

}  // namespace embody::models::act
