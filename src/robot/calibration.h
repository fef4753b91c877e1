// LeRobot motor calibration: the JSON file (byte-compatible with LeRobot's draccus.dump(indent=4)),
// timestamped backups, and the raw-tick <-> normalized value maps of motors_bus.py.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace embody::robot {

struct MotorCalibration {
  std::string name;  // "shoulder_pan", ...
  int id = 0;
  int drive_mode = 0;
  int homing_offset = 0;
  int range_min = 0;
  int range_max = 0;
  bool operator==(const MotorCalibration&) const = default;
};

// Motors in file order (LeRobot writes them in the robot's motor order).
struct Calibration {
  std::vector<MotorCalibration> motors;
  const MotorCalibration* Find(std::string_view name) const;
  const MotorCalibration* FindId(int id) const;
  bool operator==(const Calibration&) const = default;
};

// `source` names the file in errors. Checks keys and integer types and that values make sense
// for a 12-bit STS servo (0 <= range_min < range_max <= 4095, |homing_offset| <= 2047, ids unique).
Result<Calibration> ParseCalibrationJson(std::string_view text, const std::string& source);
// Exactly what LeRobot 0.4.4 writes: json.dump(..., indent=4), no trailing newline.
std::string SerializeCalibrationJson(const Calibration& cal);

Result<Calibration> LoadCalibration(const std::string& path);

// Writes `cal` to `path` atomically. If `path` exists with different content, it is first copied
// to <dir>/backups/<stem>.<YYYYMMDD-HHMMSS>[-N].json (local time); the backup path is returned
// in *backup_path (empty when none was needed).
Status SaveCalibration(const std::string& path, const Calibration& cal, std::string* backup_path = nullptr);

// LeRobot's SO-101 motors (follower and leader): ids 1..6 in this order.
inline constexpr std::string_view kSo101MotorNames[6] = {"shoulder_pan", "shoulder_lift", "elbow_flex",
                                                         "wrist_flex",   "wrist_roll",    "gripper"};
// Checks that a calibration is for an SO-100/101 arm: the six motors with ids 1..6.
Status ValidateSo101Calibration(const Calibration& cal, const std::string& source);

// MotorNormMode.
enum class NormMode { kRangeM100_100, kRange0_100, kDegrees };
// SO-101: DEGREES (use_degrees, LeRobot 0.4.4's default) or RANGE_M100_100 for joints 1-5,
// RANGE_0_100 for the gripper.
NormMode So101NormMode(std::string_view motor, bool use_degrees = true);

// motors_bus.py _normalize / _unnormalize for one motor (FeetechMotorsBus: apply_drive_mode).
// `resolution` is the model's (STS3215: 4096). Errors when range_min == range_max.
Result<double> Normalize(NormMode mode, const MotorCalibration& cal, int raw, int resolution = 4096);
Result<int> Unnormalize(NormMode mode, const MotorCalibration& cal, double value, int resolution = 4096);

// Calibration steps that need no hardware (motors_bus.py / feetech.py):
// the homing offset that makes the present raw position read as half a turn (2047).
int HalfTurnHomingOffset(int raw_position, int resolution = 4096);

}  // namespace embody::robot
