// Calibration files written by LeRobot 0.4.4 (gen_golden.py calls SOFollower/SOLeader
// _save_calibration) and normalization values computed by FeetechMotorsBus._normalize.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "robot/calibration.h"
#include "test_util.h"

namespace embody::robot {
namespace {
namespace fs = std::filesystem;
using testing::ReadText;

const std::string kFollower = EMBODY_ROBOT_TESTDATA "/so101_follower_calibration.json";
const std::string kLeader = EMBODY_ROBOT_TESTDATA "/so101_leader_calibration.json";

fs::path TempDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("embody_robot_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(Calibration, LeRobotFilesRoundTripByteForByte) {
  for (const std::string& path : {kFollower, kLeader}) {
    auto cal = LoadCalibration(path);
    ASSERT_TRUE(cal.ok()) << cal.status().ToString();
    ASSERT_EQ(cal->motors.size(), 6u);
    EXPECT_TRUE(ValidateSo101Calibration(*cal, path).ok());
    EXPECT_EQ(SerializeCalibrationJson(*cal), ReadText(path)) << path;
  }
  auto f = *LoadCalibration(kFollower);
  EXPECT_EQ(f.motors[0], (MotorCalibration{"shoulder_pan", 1, 0, -1107, 747, 3482}));
  EXPECT_EQ(f.Find("gripper")->range_max, 3460);
  EXPECT_EQ(f.FindId(5)->name, "wrist_roll");
}

TEST(Calibration, SaveMakesTimestampedBackups) {
  const fs::path dir = TempDir("save");
  const std::string path = (dir / "my_arm.json").string();
  Calibration cal = *LoadCalibration(kFollower);
  std::string backup;
  ASSERT_TRUE(SaveCalibration(path, cal, &backup).ok());
  EXPECT_TRUE(backup.empty());  // nothing to back up
  EXPECT_EQ(ReadText(path), ReadText(kFollower));
  ASSERT_TRUE(SaveCalibration(path, cal, &backup).ok());
  EXPECT_TRUE(backup.empty());  // same content: no backup
  cal.motors[0].homing_offset = 12;
  ASSERT_TRUE(SaveCalibration(path, cal, &backup).ok());
  ASSERT_FALSE(backup.empty());
  EXPECT_EQ(fs::path(backup).parent_path(), dir / "backups");
  EXPECT_EQ(fs::path(backup).filename().string().rfind("my_arm.", 0), 0u);
  EXPECT_EQ(ReadText(backup), ReadText(kFollower));
  EXPECT_EQ(LoadCalibration(path)->motors[0].homing_offset, 12);
  // Twice in the same second: distinct backups.
  cal.motors[0].homing_offset = 13;
  std::string backup2;
  ASSERT_TRUE(SaveCalibration(path, cal, &backup2).ok());
  EXPECT_NE(backup2, backup);
  EXPECT_EQ(LoadCalibration(backup2)->motors[0].homing_offset, 12);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  fs::remove_all(dir);
}

TEST(Calibration, BadFilesAreClearErrors) {
  auto missing = LoadCalibration("/nonexistent/cal.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/cal.json"), std::string::npos);
  auto expect_bad = [](const std::string& text, const std::string& what) {
    auto c = ParseCalibrationJson(text, "x.json");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(what), std::string::npos) << c.status().message();
  };
  expect_bad("{", "not valid JSON");
  expect_bad("[]", "expected a JSON object");
  expect_bad(R"({"a": {"id": 1, "drive_mode": 0, "homing_offset": 0, "range_min": 0}})", "missing \"range_max\"");
  expect_bad(R"({"a": {"id": 1, "drive_mode": 0, "homing_offset": 0.5, "range_min": 0, "range_max": 9}})", "must be an integer");
  expect_bad(R"({"a": {"id": 1, "drive_mode": 0, "homing_offset": 0, "range_min": 9, "range_max": 9}})", "range 9..9");
  expect_bad(R"({"a": {"id": 1, "drive_mode": 0, "homing_offset": 3000, "range_min": 0, "range_max": 9}})", "homing_offset 3000");
  expect_bad(R"({"a": {"id": 1, "drive_mode": 0, "homing_offset": 0, "range_min": 0, "range_max": 9, "x": 1}})", "unknown key");
  // A calibration from another kind of arm.
  auto koch = *ParseCalibrationJson(R"({"shoulder_pan": {"id": 1, "drive_mode": 0, "homing_offset": 0, "range_min": 0, "range_max": 9}})", "koch.json");
  auto st = ValidateSo101Calibration(koch, "koch.json");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("koch.json"), std::string::npos);
}

TEST(Calibration, NormalizationMatchesLeRobot) {
  const Calibration cal = *LoadCalibration(kFollower);
  int checked = 0;
  for (const auto& c : testing::Golden()["normalization"]) {
    const bool degrees = c["body_mode"] == "degrees";
    const MotorCalibration& m = *cal.FindId(c["id"].get<int>());
    const NormMode mode = So101NormMode(m.name, degrees);
    if (c.contains("raw")) {
      auto v = Normalize(mode, m, c["raw"].get<int>());
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(*v, c["normalized"].get<double>()) << m.name << " raw " << c["raw"];  // bit-exact
    } else {
      auto r = Unnormalize(mode, m, c["value"].get<double>());
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, c["unnormalized"].get<int>()) << m.name << " value " << c["value"];
    }
    ++checked;
  }
  EXPECT_EQ(checked, 300);
  EXPECT_EQ(So101NormMode("gripper", true), NormMode::kRange0_100);
  MotorCalibration flat{"x", 1, 0, 0, 5, 5};
  EXPECT_FALSE(Normalize(NormMode::kDegrees, flat, 3).ok());
  MotorCalibration inv{"x", 1, 1, 0, 1000, 3000};  // drive_mode 1 (not used by SO arms)
  EXPECT_DOUBLE_EQ(*Normalize(NormMode::kRange0_100, inv, 1500), 75.0);
  EXPECT_DOUBLE_EQ(*Normalize(NormMode::kRangeM100_100, inv, 1500), 50.0);
  EXPECT_EQ(*Unnormalize(NormMode::kRange0_100, inv, 75.0), 1500);
}

TEST(Calibration, HalfTurnHoming) {
  EXPECT_EQ(HalfTurnHomingOffset(2047), 0);
  EXPECT_EQ(HalfTurnHomingOffset(940), -1107);
}

}  // namespace
}  // namespace embody::robot
