// The tensors an ACT checkpoint must hold for inference, by LeRobot state_dict key and shape
// (lerobot-models.md 1.2). Training-only tensors (the VAE encoder) are left unused.
#pragma once

#include "models/act/act_config.h"
#include "models/common/weight_table.h"

namespace embody::models::act {

// Stage s (0..3) of the ResNet: number of BasicBlocks and output channels.
int ResNetBlocks(const ActConfig& c, int stage);
inline int64_t ResNetChannels(int stage) { return int64_t{64} << stage; }

WeightTable MakeActWeightTable(const ActConfig& c);

}  // namespace embody::models::act
