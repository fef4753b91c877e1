// One camera frame in robot units: 8-bit RGB, HWC, rows top to bottom (what LeRobot's cameras
// return and what runtime::PolicyImage points at).
#pragma once

#include <cstdint>
#include <vector>

namespace embody::camera {

struct Frame {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;    // height * width * 3; keeps its capacity across frames
  int64_t timestamp_ns = 0;    // capture time on CLOCK_MONOTONIC (std::chrono::steady_clock)
  uint64_t sequence = 0;       // 1, 2, ... per camera; 0: no frame yet

  // Sizes rgb for width x height (allocates only when the frame grows).
  void Resize(int w, int h) {
    width = w;
    height = h;
    rgb.resize(static_cast<size_t>(w) * h * 3);
  }
};

}  // namespace embody::camera
