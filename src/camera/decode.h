// Pixel formats USB cameras deliver, to RGB: MJPEG through libjpeg-turbo (the Debian libjpeg),
// and YUYV 4:2:2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "camera/frame.h"
#include "core/status.h"

namespace embody::camera {

// Decodes JPEG / MJPEG frames into RGB. One decoder per capture thread (libjpeg state is reused
// between frames). MJPEG frames from UVC cameras often omit the Huffman tables: libjpeg-turbo
// falls back to the standard tables, which is what those cameras encode with.
class JpegDecoder {
 public:
  JpegDecoder();
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // Decodes into *out (resized to the JPEG's size). kDataLoss for a corrupt or truncated frame;
  // `fast` uses the fast integer DCT (what capture wants; a slightly different rounding).
  Status Decode(std::span<const uint8_t> jpeg, Frame* out, bool fast = true);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// YUYV (Y0 U Y1 V per two pixels, BT.601 limited range, what UVC cameras send) to RGB.
// REQUIRES: width even, yuyv.size() >= width * height * 2.
void YuyvToRgb(std::span<const uint8_t> yuyv, int width, int height, uint8_t* rgb);

// Encodes RGB to JPEG (tests, and file fixtures); quality 1..100.
Result<std::vector<uint8_t>> EncodeJpeg(const uint8_t* rgb, int width, int height, int quality = 90);

}  // namespace embody::camera
