// USB cameras through V4L2 directly: mmap streaming, MJPEG or YUYV, fixed exposure and white
// balance where the driver has the controls, device/format/frame-rate listing.
// Why not OpenCV's VideoCapture (what LeRobot uses): see README.md in this folder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "camera/camera.h"
#include "camera/decode.h"

namespace embody::camera {

struct V4l2Options {
  std::string device = "/dev/video0";
  int width = 640, height = 480;
  double fps = 30;
  std::string format = "auto";  // "mjpeg", "yuyv", or "auto" (MJPEG if offered: less USB bandwidth)
  // Exposure: "fixed" switches auto exposure off at the driver's current value, "auto" leaves it
  // alone, a number sets exposure_time_absolute (units of 100 us). Same for white balance with
  // "fixed" / "auto" / a temperature in kelvin. Controls the driver lacks are reported, not fatal.
  std::string exposure = "fixed";
  std::string white_balance = "fixed";
  int buffers = 4;  // mmap buffers queued to the driver
};

class V4l2Grabber final : public FrameGrabber {
 public:
  // Opens, negotiates the format (the error lists what the device offers when the request is not
  // available), sets the frame rate and controls, maps the buffers and starts streaming.
  static Result<std::unique_ptr<V4l2Grabber>> Open(const V4l2Options& options);
  ~V4l2Grabber() override;

  const std::string& device() const override { return o_.device; }
  std::string Describe() const override;
  int width() const override { return width_; }
  int height() const override { return height_; }
  double fps() const override { return fps_; }
  // Waits for a filled buffer (up to 1 s), decodes it, requeues it. kNotFound when the device
  // disappeared (unplugged: ENODEV), kDataLoss for a corrupt frame.
  Status Grab(Frame* frame) override;
  // What was done with exposure / white balance ("exposure fixed at 156", "no white balance control").
  const std::string& controls() const { return controls_; }

 private:
  V4l2Grabber() = default;
  Status SetControls();
  struct Buffer {
    void* start = nullptr;
    size_t length = 0;
  };
  V4l2Options o_;
  int fd_ = -1;
  uint32_t pixfmt_ = 0;
  int width_ = 0, height_ = 0;
  double fps_ = 0;
  bool streaming_ = false;
  std::vector<Buffer> buffers_;
  JpegDecoder jpeg_;
  std::string controls_;
};

struct V4l2FrameSize {
  int width = 0, height = 0;
  std::vector<double> fps;  // discrete frame rates (empty when the driver reports a range)
};
struct V4l2Format {
  std::string fourcc;       // "MJPG", "YUYV", ...
  std::string description;
  std::vector<V4l2FrameSize> sizes;
};
struct V4l2Device {
  std::string path;         // /dev/videoN
  std::string by_id;        // /dev/v4l/by-id/... link to it, if any (stable across replugs)
  std::string card, driver, bus_info;
  bool capture = false;     // false: a metadata or output node (UVC cameras expose two nodes)
  std::vector<V4l2Format> formats;
  std::string error;        // why it could not be queried (busy, permission)
};

// Every /dev/video* node, in numeric order. Never fails: per-device problems go in `error`.
std::vector<V4l2Device> ListV4l2Devices();

}  // namespace embody::camera
