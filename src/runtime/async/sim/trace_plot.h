// A line plot of one episode's trace for `embody run --plot`: queue size (blue, left scale
// 0..chunk) and the charged latency of the inference in flight (red, 0..max latency) per tick;
// idle ticks are marked grey along the bottom; labels and scales are drawn with stb_easy_font.
#pragma once

#include <vector>

#include "io/image.h"
#include "runtime/async/sim/sim_runner.h"

namespace embody::runtime::simrun {

io::Image PlotTrace(const std::vector<TickTrace>& trace, int chunk_size, int height = 360, int width = 960);

}  // namespace embody::runtime::simrun
