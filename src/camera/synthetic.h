// Frame sources without a camera, behind the same FrameGrabber interface as V4L2: a generated
// test pattern and still images from files, both paced at a frame rate. Tests, benchmarks and
// the emulated arm use them; a fault switch makes a generated camera "disappear" mid-run.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "camera/camera.h"

namespace embody::camera {

struct GeneratedOptions {
  int width = 640, height = 480;
  double fps = 30;
  uint64_t seed = 0;     // changes the pattern's colours
  // Fault: after this many frames Grab reports the device gone (0: never).
  uint64_t disappear_after = 0;
};

// A moving colour pattern whose every frame differs (frame n's top-left pixel encodes n).
class GeneratedGrabber final : public FrameGrabber {
 public:
  explicit GeneratedGrabber(const GeneratedOptions& options);
  const std::string& device() const override { return device_; }
  std::string Describe() const override;
  int width() const override { return o_.width; }
  int height() const override { return o_.height; }
  double fps() const override { return o_.fps; }
  Status Grab(Frame* frame) override;

 private:
  GeneratedOptions o_;
  std::string device_ = "generated";
  uint64_t n_ = 0;
  std::chrono::steady_clock::time_point next_;
};

// Still images (PNG/JPEG/BMP/PPM) from `paths`, played in a loop at `fps`. All images must have
// the same size. The error names the file.
class FileGrabber final : public FrameGrabber {
 public:
  static Result<std::unique_ptr<FileGrabber>> Open(const std::vector<std::string>& paths, double fps);
  const std::string& device() const override { return device_; }
  std::string Describe() const override;
  int width() const override { return width_; }
  int height() const override { return height_; }
  double fps() const override { return fps_; }
  Status Grab(Frame* frame) override;

 private:
  FileGrabber() = default;
  std::string device_;
  std::vector<std::vector<uint8_t>> images_;
  int width_ = 0, height_ = 0;
  double fps_ = 30;
  size_t next_image_ = 0;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace embody::camera
