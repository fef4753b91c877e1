#include "cli/robot_cli.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "camera/camera_spec.h"
#include "robot/calibration.h"

namespace embody::cli {

namespace {
std::atomic<int> g_stop{0};

void OnSignal(int) {
  // Async-signal-safe: an atomic and _exit only.
  if (g_stop.fetch_add(1) >= 1) _exit(130);
}
}  // namespace

void InstallStopHandler() {
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool StopRequested() { return g_stop.load() > 0; }

void AddArmOptions(CLI::App* sub, ArmArgs& a, bool teleop) {
  const std::string p = teleop ? "--teleop" : "--robot";
  const std::string q = teleop ? "--teleop-" : "--";
  if (teleop) {
    sub->add_option(p, a.type, "Leader arm: so101-leader");
  } else {
    sub->add_option(p, a.type, "Follower arm: so101");
  }
  sub->add_option(q + "port", a.port, teleop ? "Leader's serial port" : "Follower's serial port (e.g. /dev/ttyACM0)");
  sub->add_option(q + "id", a.id, "Arm id: names the calibration file <id>.json (LeRobot's --robot.id / --teleop.id)");
  sub->add_option(q + "baud", a.baud, "Bus baud rate (servos ship at 1000000)");
  sub->add_option(q + "calibration-dir", a.calibration_dir,
                  "Folder of calibration files (default: LeRobot's ~/.cache/huggingface/lerobot/calibration/...)");
  sub->add_flag(q + "write-calibration", a.write_calibration,
                "If the servos disagree with the calibration file, write the file's values to them (LeRobot's ENTER choice)");
  if (!teleop) {
    sub->add_option("--use-degrees", a.use_degrees, "Joints 1-5 in degrees (LeRobot 0.4.4 default); false: -100..100");
  }
}

std::string CalibrationPathFor(const ArmArgs& a, robot::So101Role role) {
  std::string id = a.id;
  if (id.empty()) id = role == robot::So101Role::kFollower ? "follower" : "leader";
  return robot::So101CalibrationPath(role, id, a.calibration_dir);
}

namespace {
Status CheckArmType(const ArmArgs& a, robot::So101Role role) {
  const bool follower = role == robot::So101Role::kFollower;
  const std::set<std::string> ok = follower ? std::set<std::string>{"so101", "so101_follower", "so100", "so100_follower"}
                                            : std::set<std::string>{"so101-leader", "so101_leader", "so100-leader", "so100_leader"};
  if (!ok.count(a.type)) {
    return InvalidArgument(std::string(follower ? "--robot" : "--teleop") + ": '" + a.type + "' is not supported (" +
                           (follower ? "so101" : "so101-leader") + ")");
  }
  if (a.port.empty()) return InvalidArgument(std::string(follower ? "--port" : "--teleop-port") + " is required");
  return Status::Ok();
}

// The present pose must lie inside the calibrated ranges (with a margin): a file made on another
// arm puts the mid-range somewhere else and the joints read far outside it.
Status CheckPoseInRange(robot::So101Arm& arm, const robot::Calibration& cal, const std::string& path) {
  EMBODY_ASSIGN_OR_RETURN(robot::RawVector raw, arm.ReadRawPositions());
  std::string outside;
  for (int i = 0; i < robot::kSo101Joints; ++i) {
    const robot::MotorCalibration* m = cal.Find(robot::kSo101MotorNames[i]);
    const int margin = std::max(100, (m->range_max - m->range_min) / 10);
    if (raw[i] < m->range_min - margin || raw[i] > m->range_max + margin) {
      outside += "\n  - " + m->name + " (id " + std::to_string(m->id) + "): reads " + std::to_string(raw[i]) +
                 ", calibrated range " + std::to_string(m->range_min) + ".." + std::to_string(m->range_max);
    }
  }
  if (!outside.empty()) {
    return FailedPrecondition(arm.Describe() + ": with the calibration in " + path +
                              " the present pose is outside the calibrated ranges; the file is probably from "
                              "another arm (run embody calibrate for this one):" + outside);
  }
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<robot::So101Arm>> ConnectCalibratedArm(const ArmArgs& a, robot::So101Role role,
                                                              const std::vector<double>& max_relative_target,
                                                              bool disable_torque_on_exit) {
  EMBODY_TRY(CheckArmType(a, role));
  const std::string path = CalibrationPathFor(a, role);
  if (!std::filesystem::exists(path)) {
    return NotFound("no calibration file " + path + " for the " + std::string(robot::So101RoleName(role)) +
                    " on " + a.port + ": run embody calibrate first (same --id / --calibration-dir)");
  }
  EMBODY_ASSIGN_OR_RETURN(robot::Calibration cal, robot::LoadCalibration(path));
  EMBODY_TRY(robot::ValidateSo101Calibration(cal, path));

  robot::So101Options o;
  o.role = role;
  o.port = a.port;
  o.baud = a.baud;
  o.use_degrees = a.use_degrees;
  o.max_relative_target = max_relative_target;
  o.disable_torque_on_disconnect = disable_torque_on_exit;
  EMBODY_ASSIGN_OR_RETURN(auto arm, robot::So101Arm::Connect(o));
  EMBODY_ASSIGN_OR_RETURN(std::string diff, arm->CompareCalibration(cal));
  if (!diff.empty()) {
    if (!a.write_calibration) {
      return FailedPrecondition(arm->Describe() + ": the servos' calibration registers differ from " + path + ":\n" +
                                diff + "Is this file from another arm? Run embody calibrate for this arm, or pass " +
                                (role == robot::So101Role::kFollower ? "--write-calibration" : "--teleop-write-calibration") +
                                " to write the file's values to the servos.");
    }
    EMBODY_TRY(arm->DisableTorque());
    EMBODY_TRY(arm->WriteCalibration(cal));
  }
  EMBODY_TRY(arm->SetCalibration(cal, path));
  EMBODY_TRY(CheckPoseInRange(*arm, cal, path));
  EMBODY_TRY(arm->Configure());
  return arm;
}

Result<std::vector<std::unique_ptr<camera::Camera>>> StartCameras(const std::vector<std::string>& specs) {
  std::vector<std::unique_ptr<camera::Camera>> cams;
  std::set<std::string> names;
  for (const std::string& text : specs) {
    EMBODY_ASSIGN_OR_RETURN(camera::CameraSpec spec, camera::ParseCameraSpec(text));
    if (!names.insert(spec.name).second) return InvalidArgument("--camera: name '" + spec.name + "' given twice");
    EMBODY_ASSIGN_OR_RETURN(auto grabber, camera::OpenGrabber(spec));
    EMBODY_ASSIGN_OR_RETURN(auto cam, camera::Camera::Start(spec.name, std::move(grabber)));
    cams.push_back(std::move(cam));
  }
  return cams;
}

std::string FormatLoopStats(const robot::LoopStats& s) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%.0f Hz: period jitter p50 %.3f ms, p99 %.3f ms (max %.3f); missed deadlines %lld of %lld ticks; "
                "work p50 %.2f ms, p99 %.2f ms",
                s.hz, s.jitter_p50_ms, s.jitter_p99_ms, s.jitter_max_ms, static_cast<long long>(s.missed),
                static_cast<long long>(s.ticks), s.work_p50_ms, s.work_p99_ms);
  return buf;
}

io::Json LoopStatsJson(const robot::LoopStats& s) {
  return {{"hz", s.hz},
          {"ticks", s.ticks},
          {"missed_deadlines", s.missed},
          {"skipped_slots", s.skipped_slots},
          {"jitter_p50_ms", s.jitter_p50_ms},
          {"jitter_p99_ms", s.jitter_p99_ms},
          {"jitter_max_ms", s.jitter_max_ms},
          {"wake_p50_ms", s.wake_p50_ms},
          {"wake_p99_ms", s.wake_p99_ms},
          {"work_p50_ms", s.work_p50_ms},
          {"work_p99_ms", s.work_p99_ms},
          {"work_max_ms", s.work_max_ms}};
}

io::Json BusCountersJson(const robot::FeetechBusCounters& c) {
  return {{"transactions", c.transactions}, {"timeouts", c.timeouts},         {"checksum_errors", c.checksum_errors},
          {"retries", c.retries},           {"servo_errors", c.servo_errors}, {"stray_packets", c.stray_packets}};
}

}  // namespace embody::cli
