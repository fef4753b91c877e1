// LeRobot's resize_with_pad for SmolVLA: keep the aspect ratio, bilinear resize exactly as
// torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False), pad
// on the top and left with 0, then map [0, 1] to [-1, 1] (so padding becomes -1).
#pragma once

#include <cstdint>

namespace embody::models::smolvla {

// frame: uint8 HWC RGB (h x w). out: float CHW [3, size, size].
void ResizeWithPadToSiglip(const uint8_t* frame, int h, int w, int size, float* out);

}  // namespace embody::models::smolvla
