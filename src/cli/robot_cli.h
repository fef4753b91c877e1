// Pieces the real-arm commands share (calibrate, teleop, run --robot, record --robot,
// robot-bench): the stop signal, the arm options, connecting a calibrated arm safely, cameras.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "camera/camera.h"
#include "core/status.h"
#include "io/json_file.h"
#include "robot/loop_timer.h"
#include "robot/so101.h"

namespace embody::cli {

// SIGINT / SIGTERM: the first asks the running loop to stop (the arm's destructor then releases
// torque); a second one during shutdown exits at once.
void InstallStopHandler();
bool StopRequested();

// One arm on the command line.
struct ArmArgs {
  std::string type;          // "so101" (follower) or "so101-leader"
  std::string port, id, calibration_dir;
  int baud = 1'000'000;
  bool use_degrees = true;
  bool write_calibration = false;  // write the file's calibration to servos that disagree
};

// --robot/--port/--id/--baud/--calibration-dir (prefix "") or --teleop/--teleop-port/... ("teleop-").
void AddArmOptions(CLI::App* sub, ArmArgs& a, bool teleop);
// The calibration file path for this arm (LeRobot's location unless --calibration-dir).
std::string CalibrationPathFor(const ArmArgs& a, robot::So101Role role);

// Connects, loads the calibration file, checks it against the servos' registers (a file from
// another arm is refused, naming the servos and fields that differ, unless write_calibration),
// checks the present pose lies inside the calibrated ranges, and configures the arm (follower:
// torque on). Errors name the port, the file and the servo.
Result<std::unique_ptr<robot::So101Arm>> ConnectCalibratedArm(const ArmArgs& a, robot::So101Role role,
                                                              const std::vector<double>& max_relative_target,
                                                              bool disable_torque_on_exit = true);

// Opens every --camera NAME=SOURCE[,...] and starts its capture thread. Names must be unique.
Result<std::vector<std::unique_ptr<camera::Camera>>> StartCameras(const std::vector<std::string>& specs);

// "period jitter p50 0.05 ms p99 0.31 ms (max 1.2), missed 0 of 300 ticks, work p50 0.7 ms p99 1.1 ms".
std::string FormatLoopStats(const robot::LoopStats& s);
io::Json LoopStatsJson(const robot::LoopStats& s);
io::Json BusCountersJson(const robot::FeetechBusCounters& c);

// embody run --robot: the options cmd_run.cc adds to its subcommand, and the entry point it calls
// when --robot is given (cmd_robot_run.cc).
struct RobotRunArgs {
  ArmArgs arm;
  std::vector<std::string> cameras;
  double fps = 30, seconds = 60, hold_seconds = 1.0;
  std::vector<double> max_relative_target;
  bool keep_torque = false;
};
void AddRobotRunOptions(CLI::App* sub, RobotRunArgs& a);
// Policy options shared with the simulated `embody run`.
struct RunPolicyArgs {
  std::string policy = "oracle", aggregate = "weighted_average", task;
  double threshold = 0.5, oracle_latency_ms = 0;
  int chunk = 50, threads = 0;
  bool json = false;
};
int RunRobot(const RobotRunArgs& robot, const RunPolicyArgs& policy);

// embody record --robot (cmd_robot_record.cc; built with the data module): options cmd_record.cc
// adds, and the entry point it calls when --robot is given.
struct RobotRecordArgs {
  ArmArgs robot, teleop;
  std::vector<std::string> cameras;
  std::string task = "put the tea bag in the mug";
  double episode_seconds = 60, reset_seconds = 10;
  std::vector<double> max_relative_target;
};
// What `embody record` already has options for (--output, --resume, --episodes, --fps, ...).
struct RobotRecordCommon {
  std::string out, codec = "libsvtav1";
  bool resume = false, json = false;
  int episodes = 50, fps = 30;
};
void AddRobotRecordOptions(CLI::App* sub, RobotRecordArgs& a);
int RecordRobot(const RobotRecordArgs& robot, const RobotRecordCommon& common);

}  // namespace embody::cli
