#include "robot/calibration.h"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace embody::robot {
namespace fs = std::filesystem;

namespace {
constexpr std::string_view kKeys[5] = {"id", "drive_mode", "homing_offset", "range_min", "range_max"};

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("calibration file " + path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("calibration file " + path + ": read failed");
  return ss.str();
}

Status WriteAtomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("calibration file " + path + ": cannot write " + tmp);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) return IoError("calibration file " + path + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return IoError("calibration file " + path + ": rename: " + ec.message());
  return Status::Ok();
}
}  // namespace

const MotorCalibration* Calibration::Find(std::string_view name) const {
  for (const auto& m : motors) if (m.name == name) return &m;
  return nullptr;
}
const MotorCalibration* Calibration::FindId(int id) const {
  for (const auto& m : motors) if (m.id == id) return &m;
  return nullptr;
}

Result<Calibration> ParseCalibrationJson(std::string_view text, const std::string& source) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    return DataLoss("calibration file " + source + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || j.empty()) {
    return DataLoss("calibration file " + source + ": expected a JSON object of motors");
  }
  Calibration cal;
  std::set<int> ids;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string where = "calibration file " + source + ": motor '" + it.key() + "'";
    if (!it.value().is_object()) return DataLoss(where + ": expected an object");
    MotorCalibration m;
    m.name = it.key();
    int* fields[5] = {&m.id, &m.drive_mode, &m.homing_offset, &m.range_min, &m.range_max};
    for (int k = 0; k < 5; ++k) {
      auto f = it.value().find(std::string(kKeys[k]));
      if (f == it.value().end()) return DataLoss(where + ": missing \"" + std::string(kKeys[k]) + "\"");
      if (!f->is_number_integer()) return DataLoss(where + ": \"" + std::string(kKeys[k]) + "\" must be an integer");
      *fields[k] = f->get<int>();
    }
    for (auto f = it.value().begin(); f != it.value().end(); ++f) {
      bool known = false;
      for (auto k : kKeys) known |= f.key() == k;
      if (!known) return DataLoss(where + ": unknown key \"" + f.key() + "\"");
    }
    if (m.id < 0 || m.id > 252) return DataLoss(where + ": id " + std::to_string(m.id) + " out of 0..252");
    if (!ids.insert(m.id).second) return DataLoss(where + ": id " + std::to_string(m.id) + " used twice");
    if (m.drive_mode != 0 && m.drive_mode != 1) return DataLoss(where + ": drive_mode must be 0 or 1");
    if (std::abs(m.homing_offset) > 2047) {
      return DataLoss(where + ": homing_offset " + std::to_string(m.homing_offset) +
                      " does not fit the 11-bit sign-magnitude register (|x| <= 2047)");
    }
    if (m.range_min < 0 || m.range_max > 4095 || m.range_min >= m.range_max) {
      return DataLoss(where + ": range " + std::to_string(m.range_min) + ".." + std::to_string(m.range_max) +
                      " is not 0 <= range_min < range_max <= 4095");
    }
    cal.motors.push_back(std::move(m));
  }
  return cal;
}

std::string SerializeCalibrationJson(const Calibration& cal) {
  // json.dump(obj, f, indent=4): separators (",", ": "), one key per line, no trailing newline;
  // ensure_ascii escapes non-ASCII (nlohmann's ensure_ascii does the same for names).
  std::string out = "{";
  for (size_t i = 0; i < cal.motors.size(); ++i) {
    const auto& m = cal.motors[i];
    out += i == 0 ? "\n" : ",\n";
    out += "    " + nlohmann::json(m.name).dump(-1, ' ', true) + ": {\n";
    const int values[5] = {m.id, m.drive_mode, m.homing_offset, m.range_min, m.range_max};
    for (int k = 0; k < 5; ++k) {
      out += "        \"" + std::string(kKeys[k]) + "\": " + std::to_string(values[k]);
      out += k < 4 ? ",\n" : "\n";
    }
    out += "    }";
  }
  out += cal.motors.empty() ? "}" : "\n}";
  return out;
}

Result<Calibration> LoadCalibration(const std::string& path) {
  EMBODY_ASSIGN_OR_RETURN(std::string text, ReadAll(path));
  return ParseCalibrationJson(text, path);
}

Status SaveCalibration(const std::string& path, const Calibration& cal, std::string* backup_path) {
  if (backup_path) backup_path->clear();
  const std::string text = SerializeCalibrationJson(cal);
  const fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
    if (ec) return IoError("calibration file " + path + ": cannot create its directory: " + ec.message());
  }
  if (fs::exists(p, ec)) {
    EMBODY_ASSIGN_OR_RETURN(std::string old, ReadAll(path));
    if (old != text) {
      const std::time_t now = std::time(nullptr);
      std::tm tm{};
      localtime_r(&now, &tm);
      char stamp[32];
      std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
      const fs::path dir = p.parent_path() / "backups";
      fs::create_directories(dir, ec);
      if (ec) return IoError("calibration backup for " + path + ": cannot create " + dir.string() + ": " + ec.message());
      fs::path backup = dir / (p.stem().string() + "." + stamp + ".json");
      for (int n = 1; fs::exists(backup); ++n) {
        backup = dir / (p.stem().string() + "." + stamp + "-" + std::to_string(n) + ".json");
      }
      fs::copy_file(p, backup, ec);
      if (ec) return IoError("calibration backup for " + path + ": copy to " + backup.string() + ": " + ec.message());
      if (backup_path) *backup_path = backup.string();
    }
  }
  return WriteAtomic(path, text);
}

Status ValidateSo101Calibration(const Calibration& cal, const std::string& source) {
  if (cal.motors.size() != 6) {
    return InvalidArgument("calibration " + source + ": " + std::to_string(cal.motors.size()) +
                           " motors, an SO-100/101 arm has 6");
  }
  for (int i = 0; i < 6; ++i) {
    const MotorCalibration* m = cal.Find(kSo101MotorNames[i]);
    if (!m) return InvalidArgument("calibration " + source + ": no motor '" + std::string(kSo101MotorNames[i]) + "' (not an SO-100/101 calibration?)");
    if (m->id != i + 1) {
      return InvalidArgument("calibration " + source + ": motor '" + m->name + "' has id " + std::to_string(m->id) +
                             ", expected " + std::to_string(i + 1));
    }
  }
  return Status::Ok();
}

NormMode So101NormMode(std::string_view motor, bool use_degrees) {
  if (motor == "gripper") return NormMode::kRange0_100;
  return use_degrees ? NormMode::kDegrees : NormMode::kRangeM100_100;
}

// The arithmetic below follows motors_bus.py operation by operation, in doubles, so results are
// bit-identical to Python's floats; int() truncates toward zero.
Result<double> Normalize(NormMode mode, const MotorCalibration& cal, int raw, int resolution) {
  const double min = cal.range_min, max = cal.range_max;
  if (cal.range_min == cal.range_max) {
    return InvalidArgument("Invalid calibration for motor '" + cal.name + "': min and max are equal.");
  }
  const bool drive = cal.drive_mode != 0;
  const double bounded = std::min(max, std::max(min, static_cast<double>(raw)));
  switch (mode) {
    case NormMode::kRangeM100_100: {
      const double norm = (((bounded - min) / (max - min)) * 200) - 100;
      return drive ? -norm : norm;
    }
    case NormMode::kRange0_100: {
      const double norm = ((bounded - min) / (max - min)) * 100;
      return drive ? 100 - norm : norm;
    }
    case NormMode::kDegrees: {
      const double mid = (min + max) / 2;
      const double max_res = resolution - 1;
      return (static_cast<double>(raw) - mid) * 360 / max_res;
    }
  }
  return Internal("unknown norm mode");
}

Result<int> Unnormalize(NormMode mode, const MotorCalibration& cal, double value, int resolution) {
  const double min = cal.range_min, max = cal.range_max;
  if (cal.range_min == cal.range_max) {
    return InvalidArgument("Invalid calibration for motor '" + cal.name + "': min and max are equal.");
  }
  if (!std::isfinite(value)) return InvalidArgument("motor '" + cal.name + "': non-finite target value");
  const bool drive = cal.drive_mode != 0;
  double r = 0;
  switch (mode) {
    case NormMode::kRangeM100_100: {
      const double v = drive ? -value : value;
      const double bounded = std::min(100.0, std::max(-100.0, v));
      r = ((bounded + 100) / 200) * (max - min) + min;
      break;
    }
    case NormMode::kRange0_100: {
      const double v = drive ? 100 - value : value;
      const double bounded = std::min(100.0, std::max(0.0, v));
      r = (bounded / 100) * (max - min) + min;
      break;
    }
    case NormMode::kDegrees: {
      const double mid = (min + max) / 2;
      const double max_res = resolution - 1;
      r = (value * max_res / 360) + mid;
      break;
    }
  }
  if (std::abs(r) > 1e9) return OutOfRange("motor '" + cal.name + "': target out of range");
  return static_cast<int>(std::trunc(r));
}

int HalfTurnHomingOffset(int raw_position, int resolution) {
  return raw_position - static_cast<int>((resolution - 1) / 2);
}

}  // namespace embody::robot
