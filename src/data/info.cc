#include "data/info.h"

#include <fstream>
#include <sstream>

#include "data/format.h"

namespace embody::data {

int64_t Feature::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {
// Cameras are [h, w, c] unless names say channels come first.
bool ChannelsFirst(const Feature& f) {
  if (f.names.is_array() && !f.names.empty() && f.names[0].is_string()) {
    const std::string first = f.names[0].get<std::string>();
    return first == "channels" || first == "channel";
  }
  return false;
}
}  // namespace

int64_t Feature::height() const {
  if (shape.size() != 3) return 0;
  return ChannelsFirst(*this) ? shape[1] : shape[0];
}
int64_t Feature::width() const {
  if (shape.size() != 3) return 0;
  return ChannelsFirst(*this) ? shape[2] : shape[1];
}
int64_t Feature::channels() const {
  if (shape.size() != 3) return 0;
  return ChannelsFirst(*this) ? shape[0] : shape[2];
}

const Feature* DatasetInfo::Find(const std::string& name) const {
  for (const Feature& f : features)
    if (f.name == name) return &f;
  return nullptr;
}
std::vector<std::string> DatasetInfo::video_keys() const {
  std::vector<std::string> out;
  for (const Feature& f : features)
    if (f.is_video()) out.push_back(f.name);
  return out;
}
std::vector<std::string> DatasetInfo::image_keys() const {
  std::vector<std::string> out;
  for (const Feature& f : features)
    if (f.is_image()) out.push_back(f.name);
  return out;
}
std::vector<std::string> DatasetInfo::camera_keys() const {
  std::vector<std::string> out;
  for (const Feature& f : features)
    if (f.is_camera()) out.push_back(f.name);
  return out;
}

namespace {

Status Bad(const std::string& file, const std::string& field, const std::string& what) {
  return DataLoss(file + ": " + field + ": " + what);
}

Result<int64_t> GetInt(const io::Json& j, const char* key, const std::string& file, bool required, int64_t def,
                       int64_t min_value = 0) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Bad(file, key, "missing");
    return def;
  }
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    // LeRobot writes ints; tolerate integral floats (some converters emit 30.0 for fps)
    if (it->is_number_float()) {
      const double v = it->get<double>();
      if (v == static_cast<double>(static_cast<int64_t>(v)) && v >= static_cast<double>(min_value) && v < 9e15)
        return static_cast<int64_t>(v);
    }
    return Bad(file, key, "expected an integer, got " + it->dump());
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    return Bad(file, key, "out of range");
  const int64_t v = it->get<int64_t>();
  if (v < min_value) return Bad(file, key, "must be >= " + std::to_string(min_value) + ", got " + std::to_string(v));
  return v;
}

Result<std::string> GetString(const io::Json& j, const char* key, const std::string& file, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Bad(file, key, "missing");
    return std::string();
  }
  if (!it->is_string()) return Bad(file, key, "expected a string, got " + it->dump());
  return it->get<std::string>();
}

Result<Feature> ParseFeature(const std::string& name, const io::Json& j, const std::string& file) {
  const std::string field = "features." + name;
  if (!j.is_object()) return Bad(file, field, "expected an object");
  Feature f;
  f.name = name;
  if (name.empty()) return Bad(file, "features", "empty feature name");
  if (name.find('/') != std::string::npos) return Bad(file, field, "feature names must not contain '/'");
  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) return Bad(file, field + ".dtype", "missing or not a string");
  f.dtype = dt->get<std::string>();
  static const char* kKnown[] = {"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                                 "uint16", "uint32", "uint64", "bool", "video", "image", "string", "language"};
  bool known = false;
  for (const char* k : kKnown) known |= f.dtype == k;
  if (!known) return Bad(file, field + ".dtype", "unknown dtype '" + f.dtype + "'");
  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) return Bad(file, field + ".shape", "missing or not a list");
  if (sh->size() > 5) return Bad(file, field + ".shape", "more than 5 dimensions");
  for (const auto& d : *sh) {
    if (!d.is_number_integer() || d.get<int64_t>() <= 0 || d.get<int64_t>() > (1 << 24))
      return Bad(file, field + ".shape", "expected positive integers, got " + sh->dump());
    f.shape.push_back(d.get<int64_t>());
  }
  if (f.shape.empty() && f.dtype != "string" && f.dtype != "language")
    return Bad(file, field + ".shape", "empty shape");
  if (f.is_camera() && (f.shape.size() != 3 || (f.channels() != 3 && f.channels() != 1)))
    return Bad(file, field + ".shape", "a camera needs [height, width, 3] (or channels first), got " + sh->dump());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "dtype" || it.key() == "shape") continue;
    if (it.key() == "names") f.names = it.value();
    else if (it.key() == "info") f.info = it.value();
    else f.extra[it.key()] = it.value();
  }
  return f;
}

}  // namespace

Result<DatasetInfo> ParseInfo(const io::Json& j, const std::string& file) {
  if (!j.is_object()) return DataLoss(file + ": expected a JSON object");
  DatasetInfo info;
  EMBODY_ASSIGN_OR_RETURN(info.codebase_version, GetString(j, "codebase_version", file, true));
  const std::string& v = info.codebase_version;
  if (v.rfind("v3.", 0) != 0 && v.rfind("v2.", 0) != 0)
    return Unimplemented(file + ": codebase_version '" + v + "': embody reads v2.x and v3.x datasets");
  EMBODY_ASSIGN_OR_RETURN(int64_t fps, GetInt(j, "fps", file, true, 0, 1));
  if (fps > 10000) return Bad(file, "fps", "implausible value " + std::to_string(fps));
  info.fps = static_cast<int>(fps);
  EMBODY_ASSIGN_OR_RETURN(info.robot_type, GetString(j, "robot_type", file, false));
  EMBODY_ASSIGN_OR_RETURN(info.total_episodes, GetInt(j, "total_episodes", file, true, 0));
  EMBODY_ASSIGN_OR_RETURN(info.total_frames, GetInt(j, "total_frames", file, true, 0));
  EMBODY_ASSIGN_OR_RETURN(info.total_tasks, GetInt(j, "total_tasks", file, false, 0));
  EMBODY_ASSIGN_OR_RETURN(info.chunks_size, GetInt(j, "chunks_size", file, false, kDefaultChunksSize, 1));
  EMBODY_ASSIGN_OR_RETURN(info.data_files_size_in_mb,
                          GetInt(j, "data_files_size_in_mb", file, false, kDefaultDataFileSizeMb, 1));
  EMBODY_ASSIGN_OR_RETURN(info.video_files_size_in_mb,
                          GetInt(j, "video_files_size_in_mb", file, false, kDefaultVideoFileSizeMb, 1));
  EMBODY_ASSIGN_OR_RETURN(info.data_path, GetString(j, "data_path", file, true));
  EMBODY_ASSIGN_OR_RETURN(info.video_path, GetString(j, "video_path", file, false));
  auto feats = j.find("features");
  if (feats == j.end() || !feats->is_object() || feats->empty())
    return Bad(file, "features", "missing or not a non-empty object");
  for (auto it = feats->begin(); it != feats->end(); ++it) {
    EMBODY_ASSIGN_OR_RETURN(Feature f, ParseFeature(it.key(), it.value(), file));
    info.features.push_back(std::move(f));
  }
  if (!info.video_keys().empty() && info.video_path.empty())
    return Bad(file, "video_path", "null but the dataset has video features");
  static const char* kKnownKeys[] = {"codebase_version", "fps", "robot_type", "total_episodes", "total_frames",
                                     "total_tasks", "chunks_size", "data_files_size_in_mb", "video_files_size_in_mb",
                                     "data_path", "video_path", "features"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : kKnownKeys) known |= it.key() == k;
    if (!known) info.extra[it.key()] = it.value();
  }
  return info;
}

Result<DatasetInfo> ParseInfoText(const std::string& text, const std::string& file) {
  io::Json j = io::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(file + ": not valid JSON");
  return ParseInfo(j, file);
}

Result<DatasetInfo> ReadInfo(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": no such file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseInfoText(ss.str(), path);
}

io::Json InfoToJson(const DatasetInfo& info) {
  io::Json j = io::Json::object();
  j["codebase_version"] = info.codebase_version;
  j["robot_type"] = info.robot_type.empty() ? io::Json(nullptr) : io::Json(info.robot_type);
  j["total_episodes"] = info.total_episodes;
  j["total_frames"] = info.total_frames;
  j["total_tasks"] = info.total_tasks;
  j["chunks_size"] = info.chunks_size;
  j["data_files_size_in_mb"] = info.data_files_size_in_mb;
  j["video_files_size_in_mb"] = info.video_files_size_in_mb;
  j["fps"] = info.fps;
  j["splits"] = io::Json{{"train", "0:" + std::to_string(info.total_episodes)}};
  j["data_path"] = info.data_path;
  j["video_path"] = info.video_path.empty() ? io::Json(nullptr) : io::Json(info.video_path);
  io::Json feats = io::Json::object();
  for (const Feature& f : info.features) {
    io::Json fj = io::Json::object();
    fj["dtype"] = f.dtype;
    fj["shape"] = f.shape;
    fj["names"] = f.names;
    if (!f.info.is_null()) fj["info"] = f.info;
    for (auto it = f.extra.begin(); it != f.extra.end(); ++it) fj[it.key()] = it.value();
    feats[f.name] = fj;
  }
  j["features"] = feats;
  for (auto it = info.extra.begin(); it != info.extra.end(); ++it)
    if (it.key() != "splits") j[it.key()] = it.value();
  return j;
}

std::vector<Feature> DefaultFeatures() {
  std::vector<Feature> out;
  for (std::string_view name : kDefaultFeatures) {
    Feature f;
    f.name = std::string(name);
    f.dtype = name == "timestamp" ? "float32" : "int64";
    f.shape = {1};
    f.names = nullptr;
    out.push_back(f);
  }
  return out;
}

std::vector<Feature> RobotFeatures(const std::vector<std::string>& state_names,
                                   const std::vector<std::string>& action_names,
                                   const std::vector<CameraShape>& cameras) {
  std::vector<Feature> out;
  auto vec = [&](const std::string& name, const std::vector<std::string>& names) {
    Feature f;
    f.name = name;
    f.dtype = "float32";
    f.shape = {static_cast<int64_t>(names.size())};
    f.names = names;
    out.push_back(f);
  };
  if (!action_names.empty()) vec("action", action_names);
  if (!state_names.empty()) vec("observation.state", state_names);
  for (const CameraShape& c : cameras) {
    Feature f;
    f.name = c.name.rfind("observation.", 0) == 0 ? c.name : "observation.images." + c.name;
    f.dtype = "video";
    f.shape = {c.height, c.width, 3};
    f.names = {"height", "width", "channels"};
    out.push_back(f);
  }
  for (Feature& f : DefaultFeatures()) out.push_back(std::move(f));
  return out;
}

}  // namespace embody::data
