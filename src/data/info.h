// meta/info.json: the dataset's schema (features), counters and path templates.
//
// Parsing is strict about what readers depend on (fps, features with dtype and shape, counters,
// path templates) and tolerant of everything else: unknown keys are kept in `extra` and written
// back unchanged, as LeRobot's DatasetInfo does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace embody::data {

// One entry of info.json "features".
struct Feature {
  std::string name;            // "action", "observation.state", "observation.images.top", "timestamp"
  std::string dtype;           // numpy dtype ("float32", "int64", "bool", ...) or "video", "image", "string"
  std::vector<int64_t> shape;  // e.g. [6]; cameras [height, width, channels]
  io::Json names;              // null, a list of names, or a dict (LeRobot allows both)
  io::Json info;               // video info (codec, pix_fmt, ...); null when absent
  io::Json extra;              // other keys (e.g. "fps" on datasets converted from v2.1)

  bool is_video() const { return dtype == "video"; }
  bool is_image() const { return dtype == "image"; }
  bool is_camera() const { return is_video() || is_image(); }
  bool is_numeric() const { return !is_camera() && dtype != "string" && dtype != "language"; }
  int64_t numel() const;  // product of shape
  // Camera features: height, width, channels from shape and names (HWC or CHW).
  int64_t height() const;
  int64_t width() const;
  int64_t channels() const;
};

struct DatasetInfo {
  std::string codebase_version = "v3.0";
  int fps = 30;
  std::string robot_type;  // "" is written as null
  std::vector<Feature> features;
  int64_t total_episodes = 0;
  int64_t total_frames = 0;
  int64_t total_tasks = 0;
  int64_t chunks_size = 1000;
  int64_t data_files_size_in_mb = 100;
  int64_t video_files_size_in_mb = 200;
  std::string data_path;   // template
  std::string video_path;  // template; "" when the dataset has no videos (written as null)
  io::Json extra = io::Json::object();  // keys we do not interpret (splits is rewritten)

  bool is_v21() const { return codebase_version.rfind("v2", 0) == 0; }
  const Feature* Find(const std::string& name) const;
  std::vector<std::string> video_keys() const;
  std::vector<std::string> image_keys() const;
  std::vector<std::string> camera_keys() const;  // video and image, in features order
};

// Parses info.json content. `file` names the source in errors ("<file>: features.action.shape:
// expected a list of positive integers"). kDataLoss on malformed content, kUnimplemented for a
// codebase_version other than v2.x / v3.x.
Result<DatasetInfo> ParseInfo(const io::Json& json, const std::string& file);
Result<DatasetInfo> ParseInfoText(const std::string& text, const std::string& file);
Result<DatasetInfo> ReadInfo(const std::string& path);
io::Json InfoToJson(const DatasetInfo& info);

// Feature list for a new dataset recorded from a robot or the simulation: action and
// observation.state (float32, the given names), one video feature per camera
// ("observation.images.<camera>", [height, width, 3]), then LeRobot's five default features.
struct CameraShape {
  std::string name;  // short name ("top") or the full key ("observation.images.top")
  int height = 0, width = 0;
};
std::vector<Feature> RobotFeatures(const std::vector<std::string>& state_names,
                                   const std::vector<std::string>& action_names,
                                   const std::vector<CameraShape>& cameras);
// The five default features (timestamp, frame_index, episode_index, index, task_index).
std::vector<Feature> DefaultFeatures();

}  // namespace embody::data
