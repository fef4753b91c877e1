// The --camera argument of the embody commands, and the grabber it names:
//
//   NAME=SOURCE[,key=value...]
//   SOURCE: /dev/videoN or /dev/v4l/by-id/... (V4L2), "generated" (test pattern), file:A.png[:B.png...]
//   keys:   width, height, fps, format (mjpeg|yuyv|auto), exposure (fixed|auto|N), wb (fixed|auto|K),
//           disappear_after (generated: frames before an injected unplug), seed (generated)
//
//   top=/dev/video0,width=640,height=480,fps=30      wrist=generated,fps=60
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "camera/camera.h"

namespace embody::camera {

struct CameraSpec {
  std::string name;    // the policy / dataset camera key: observation.images.<name>
  std::string source;
  int width = 640, height = 480;
  double fps = 30;
  std::string format = "auto", exposure = "fixed", white_balance = "fixed";
  uint64_t disappear_after = 0, seed = 0;
};

// Errors name the argument and the bad key or value.
Result<CameraSpec> ParseCameraSpec(const std::string& text);
Result<std::unique_ptr<FrameGrabber>> OpenGrabber(const CameraSpec& spec);

}  // namespace embody::camera
