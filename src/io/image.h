// Still images for the CLI and tests: decode PNG/JPEG to 8-bit RGB, encode PNG.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace embody::io {

// An 8-bit RGB image, HWC, rows top to bottom (what LeRobot's cameras produce).
struct Image {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // height x width x 3
};

// Decodes PNG, JPEG, BMP or PPM; grey and RGBA are converted to RGB.
Result<Image> LoadImage(const std::string& path);
Status SavePng(const std::string& path, const Image& image);

}  // namespace embody::io
