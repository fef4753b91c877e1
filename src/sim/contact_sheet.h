// Side-by-side sheets of camera images, for `embody sim --show` and video frames.
#pragma once

#include <vector>

#include "io/image.h"

namespace embody::sim {

// Places the images left to right on a dark background (heights may differ; top aligned),
// with a gap of `gap` pixels.
io::Image ContactSheet(const std::vector<io::Image>& images, int gap = 8);

}  // namespace embody::sim
