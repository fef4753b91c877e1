#include "camera/camera_spec.h"

#include <sstream>
#include <vector>

#include "camera/synthetic.h"
#include "camera/v4l2.h"

namespace embody::camera {

namespace {
template <typename T>
Status ParseNumber(const std::string& arg, const std::string& key, const std::string& value, T* out) {
  std::istringstream ss(value);
  T v{};
  if (!(ss >> v) || !ss.eof() || !(v > 0 || key == "seed" || key == "disappear_after")) {
    return InvalidArgument("--camera " + arg + ": " + key + " must be a positive number, got '" + value + "'");
  }
  *out = v;
  return Status::Ok();
}
}  // namespace

Result<CameraSpec> ParseCameraSpec(const std::string& text) {
  CameraSpec s;
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("--camera " + text + ": expected NAME=SOURCE[,key=value...], e.g. top=/dev/video0");
  }
  s.name = text.substr(0, eq);
  std::vector<std::string> parts;
  std::stringstream rest(text.substr(eq + 1));
  for (std::string p; std::getline(rest, p, ',');) parts.push_back(p);
  if (parts.empty() || parts[0].empty()) return InvalidArgument("--camera " + text + ": no source after '='");
  s.source = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t e = parts[i].find('=');
    if (e == std::string::npos) return InvalidArgument("--camera " + text + ": '" + parts[i] + "' is not key=value");
    const std::string key = parts[i].substr(0, e), value = parts[i].substr(e + 1);
    if (key == "width") EMBODY_TRY(ParseNumber(text, key, value, &s.width));
    else if (key == "height") EMBODY_TRY(ParseNumber(text, key, value, &s.height));
    else if (key == "fps") EMBODY_TRY(ParseNumber(text, key, value, &s.fps));
    else if (key == "disappear_after") EMBODY_TRY(ParseNumber(text, key, value, &s.disappear_after));
    else if (key == "seed") EMBODY_TRY(ParseNumber(text, key, value, &s.seed));
    else if (key == "format") s.format = value;
    else if (key == "exposure") s.exposure = value;
    else if (key == "wb") s.white_balance = value;
    else
      return InvalidArgument("--camera " + text + ": unknown key '" + key +
                             "' (width, height, fps, format, exposure, wb, disappear_after, seed)");
  }
  return s;
}

Result<std::unique_ptr<FrameGrabber>> OpenGrabber(const CameraSpec& spec) {
  if (spec.source == "generated") {
    GeneratedOptions o;
    o.width = spec.width;
    o.height = spec.height;
    o.fps = spec.fps;
    o.seed = spec.seed;
    o.disappear_after = spec.disappear_after;
    return std::unique_ptr<FrameGrabber>(std::make_unique<GeneratedGrabber>(o));
  }
  if (spec.source.rfind("file:", 0) == 0) {
    std::vector<std::string> paths;
    std::stringstream ss(spec.source.substr(5));
    for (std::string p; std::getline(ss, p, ':');)
      if (!p.empty()) paths.push_back(p);
    auto g = FileGrabber::Open(paths, spec.fps);
    if (!g.ok()) return g.status().WithContext("camera " + spec.name);
    return std::unique_ptr<FrameGrabber>(std::move(*g));
  }
  if (spec.source.rfind("/dev/", 0) == 0) {
    V4l2Options o;
    o.device = spec.source;
    o.width = spec.width;
    o.height = spec.height;
    o.fps = spec.fps;
    o.format = spec.format;
    o.exposure = spec.exposure;
    o.white_balance = spec.white_balance;
    auto g = V4l2Grabber::Open(o);
    if (!g.ok()) return g.status();
    return std::unique_ptr<FrameGrabber>(std::move(*g));
  }
  return InvalidArgument("camera " + spec.name + ": source '" + spec.source +
                         "' is not /dev/..., 'generated' or file:PATH");
}

}  // namespace embody::camera
