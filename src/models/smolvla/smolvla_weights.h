// The tensors a SmolVLA checkpoint must hold (lerobot-models.md 4.7), by LeRobot key and shape.
#pragma once

#include <string>

#include "models/common/weight_table.h"
#include "models/smolvla/smolvla_config.h"

namespace embody::models::smolvla {

inline const std::string kVlm = "model.vlm_with_expert.vlm.model.";
inline const std::string kExpert = "model.vlm_with_expert.lm_expert.";

WeightTable MakeSmolVlaWeightTable(const SmolVlaConfig& c);

}  // namespace embody::models::smolvla
