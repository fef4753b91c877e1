// embody calibrate: LeRobot's calibration of an SO-101 follower and/or leader, interactively.
//
//   1. torque off, position mode;
//   2. the user puts every joint mid-range, ENTER: Homing_Offset = raw - 2047 on each servo;
//   3. the user sweeps every joint but wrist_roll through its range; ENTER (or --record-seconds)
//      stops; min/max seen become range_min/range_max (wrist_roll: 0..4095);
//   4. offsets and limits written to the servos, the JSON saved where LeRobot looks for it, the
//      previous file (if different) kept in backups/ with a timestamp.
// If a calibration file exists, ENTER writes it to the servos instead, 'c' recalibrates (LeRobot).
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/common.h"
#include "cli/robot_cli.h"
#include "robot/calibration.h"

namespace embody::cli {

namespace {

struct CalibrateArgs {
  ArmArgs robot, teleop;
  double record_seconds = 0;
  bool recalibrate = false, json = false;
};

// True when a whole line is waiting on stdin (consumed); never blocks.
bool LineReady() {
  pollfd p{0, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  std::string line;
  std::getline(std::cin, line);
  return true;
}

std::string Prompt(const std::string& text, bool json) {
  std::fprintf(json ? stderr : stdout, "%s", text.c_str());
  std::fflush(json ? stderr : stdout);
  std::string line;
  std::getline(std::cin, line);
  if (!isatty(0)) std::fprintf(json ? stderr : stdout, "\n");  // piped input: end the prompt's line
  return line;
}

Result<io::Json> CalibrateArm(const ArmArgs& a, robot::So101Role role, const CalibrateArgs& args) {
  FILE* out = args.json ? stderr : stdout;  // prompts and the live table never pollute --json
  robot::So101Options o;
  o.role = role;
  o.port = a.port;
  o.baud = a.baud;
  o.use_degrees = a.use_degrees;
  EMBODY_ASSIGN_OR_RETURN(auto arm, robot::So101Arm::Connect(o));
  const std::string path = CalibrationPathFor(a, role);
  const std::string who = arm->Describe();
  io::Json result = {{"arm", std::string(robot::So101RoleName(role))}, {"port", a.port}, {"file", path}};

  if (std::filesystem::exists(path) && !args.recalibrate) {
    EMBODY_ASSIGN_OR_RETURN(robot::Calibration existing, robot::LoadCalibration(path));
    EMBODY_TRY(robot::ValidateSo101Calibration(existing, path));
    const std::string answer = Prompt("Press ENTER to write the calibration file " + path + " to the " + who +
                                      ", or type 'c' and ENTER to calibrate again: ", args.json);
    if (answer != "c" && answer != "C") {
      EMBODY_TRY(arm->DisableTorque());
      EMBODY_TRY(arm->WriteCalibration(existing));
      std::fprintf(out, "wrote %s to the servos of the %s\n", path.c_str(), who.c_str());
      result["action"] = "written from file";
      return result;
    }
  }

  std::fprintf(out, "\nCalibrating the %s\n", who.c_str());
  EMBODY_TRY(arm->BeginCalibration());
  Prompt("Move the " + who + " to the middle of its range of motion and press ENTER...", args.json);
  EMBODY_ASSIGN_OR_RETURN(robot::RawVector offsets, arm->SetHalfTurnHomings());

  std::fprintf(out, "Move all joints except 'wrist_roll' one by one through their entire ranges of motion.\n%s\n",
               args.record_seconds > 0 ? ("Recording positions for " + std::to_string(std::lround(args.record_seconds)) + " s...").c_str()
                                       : "Recording positions. Press ENTER to stop...");
  robot::RangeRecorder rec;
  const bool tty = isatty(fileno(out));
  const auto start = std::chrono::steady_clock::now();
  for (int frame = 0;; ++frame) {
    if (StopRequested()) return FailedPrecondition("calibration of the " + who + " interrupted; nothing was saved");
    EMBODY_ASSIGN_OR_RETURN(robot::RawVector raw, arm->ReadRawPositions());
    rec.Update(raw);
    if (tty && frame % 5 == 0) {
      if (frame > 0) std::fprintf(out, "\033[%dA", robot::kSo101Joints + 1);
      std::fprintf(out, "%-15s | %6s | %6s | %6s\n", "NAME", "MIN", "POS", "MAX");
      for (int i = 0; i < robot::kSo101Joints; ++i)
        std::fprintf(out, "%-15s | %6d | %6d | %6d\n", std::string(robot::kSo101MotorNames[i]).c_str(), rec.mins()[i],
                     raw[i], rec.maxes()[i]);
      std::fflush(out);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (args.record_seconds > 0 ? elapsed >= args.record_seconds : LineReady()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  robot::RawVector mins{}, maxes{};
  EMBODY_TRY(rec.Finish(&mins, &maxes).WithContext(who));
  const robot::Calibration cal = robot::MakeSo101Calibration(offsets, mins, maxes);
  EMBODY_TRY(arm->WriteCalibration(cal));
  std::string backup;
  EMBODY_TRY(robot::SaveCalibration(path, cal, &backup));
  std::fprintf(out, "Calibration saved to %s%s%s\n", path.c_str(), backup.empty() ? "" : " (previous file kept as ",
               backup.empty() ? "" : (backup + ")").c_str());
  result["action"] = "calibrated";
  result["backup"] = backup;
  result["samples"] = rec.samples();
  io::Json motors = io::Json::object();
  for (const auto& m : cal.motors)
    motors[m.name] = {{"id", m.id}, {"homing_offset", m.homing_offset}, {"range_min", m.range_min}, {"range_max", m.range_max}};
  result["motors"] = motors;
  return result;
}

int RunCalibrate(const CalibrateArgs& a) {
  if (a.robot.type.empty() && a.teleop.type.empty())
    return Fail(InvalidArgument("nothing to calibrate: give --robot so101 --port ... and/or --teleop so101-leader --teleop-port ..."));
  InstallStopHandler();
  io::Json results = io::Json::array();
  struct Job {
    const ArmArgs* args;
    robot::So101Role role;
  };
  for (const Job& j : {Job{&a.robot, robot::So101Role::kFollower}, Job{&a.teleop, robot::So101Role::kLeader}}) {
    if (j.args->type.empty()) continue;
    const bool follower = j.role == robot::So101Role::kFollower;
    const std::string want = follower ? "so101" : "so101-leader";
    if (j.args->type != want && j.args->type != (follower ? "so100" : "so100-leader"))
      return Fail(InvalidArgument(std::string(follower ? "--robot" : "--teleop") + ": '" + j.args->type +
                                  "' is not supported (" + want + ")"));
    if (j.args->port.empty()) return Fail(InvalidArgument(std::string(follower ? "--port" : "--teleop-port") + " is required"));
    auto r = CalibrateArm(*j.args, j.role, a);
    if (!r.ok()) return Fail(r.status());
    results.push_back(*r);
  }
  if (a.json) PrintJson({{"calibrations", results}});
  return 0;
}

}  // namespace

void RegisterCalibrate(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* sub = app.add_subcommand("calibrate", "Calibrate an SO-101 follower and/or leader arm as LeRobot does");
  AddArmOptions(sub, a->robot, false);
  AddArmOptions(sub, a->teleop, true);
  sub->add_option("--record-seconds", a->record_seconds,
                  "Record the range of motion for this long instead of until ENTER (scripts, the emulator)");
  sub->add_flag("--recalibrate", a->recalibrate, "Calibrate even if a calibration file exists (no question)");
  sub->add_flag("--json", a->json, "Print the result as JSON (prompts go to stderr)");
  sub->callback([&run, a] { run = [a] { return RunCalibrate(*a); }; });
}

}  // namespace embody::cli
