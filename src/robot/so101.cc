#include "robot/so101.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace embody::robot {

namespace fb = feetech;

std::string_view So101RoleName(So101Role role) {
  return role == So101Role::kFollower ? "so_follower" : "so_leader";
}

std::string So101CalibrationPath(So101Role role, const std::string& id, const std::string& dir) {
  std::string base = dir;
  if (base.empty()) {
    // The same lookup as lerobot/utils/constants.py, so both tools share one file per arm.
    auto env = [](const char* name) -> std::string {
      const char* v = std::getenv(name);
      return v && *v ? v : "";
    };
    std::string root = env("HF_LEROBOT_CALIBRATION");
    if (root.empty()) {
      std::string home = env("HF_LEROBOT_HOME");
      if (home.empty()) {
        std::string hf = env("HF_HOME");
        if (hf.empty()) hf = env("HOME") + "/.cache/huggingface";
        home = hf + "/lerobot";
      }
      root = home + "/calibration";
    }
    base = root + (role == So101Role::kFollower ? "/robots/" : "/teleoperators/") + std::string(So101RoleName(role));
  }
  return base + "/" + id + ".json";
}

So101Arm::So101Arm(std::unique_ptr<ByteStream> stream, const So101Options& options)
    : options_(options), stream_(std::move(stream)) {
  FeetechBusOptions bo = options.bus;
  bo.num_retries = options.num_retries;
  bus_ = std::make_unique<FeetechBus>(*stream_, bo);
  for (int i = 0; i < kSo101Joints; ++i) modes_[i] = So101NormMode(kSo101MotorNames[i], options.use_degrees);
  goal_raw_.resize(kSo101Joints);
}

So101Arm::~So101Arm() {
  if (torque_enabled_ && options_.disable_torque_on_disconnect) {
    if (Status s = DisableTorque(); !s.ok()) {
      // A destructor cannot return the error, and a servo left holding is a safety matter.
      std::fprintf(stderr, "warning: %s: could not release torque: %s\n", Describe().c_str(), s.ToString().c_str());
    }
  }
}

std::string So101Arm::Describe() const { return std::string(So101RoleName(options_.role)) + " on " + port(); }

std::string So101Arm::Joint(int i) const {
  return std::string(kSo101MotorNames[i]) + " (id " + std::to_string(kSo101Ids[i]) + ")";
}

Result<std::unique_ptr<So101Arm>> So101Arm::Connect(const So101Options& options) {
  if (options.port.empty()) return InvalidArgument("no serial port given for the " + std::string(So101RoleName(options.role)));
  auto port = SerialPort::Open(options.port, options.baud);
  if (!port.ok()) return port.status();
  return Connect(std::move(*port), options);
}

Result<std::unique_ptr<So101Arm>> So101Arm::Connect(std::unique_ptr<ByteStream> stream, const So101Options& options) {
  if (!options.max_relative_target.empty() && options.max_relative_target.size() != 1 &&
      options.max_relative_target.size() != kSo101Joints) {
    return InvalidArgument("max_relative_target: one value for all joints or six (one per joint), got " +
                           std::to_string(options.max_relative_target.size()));
  }
  for (double cap : options.max_relative_target) {
    if (!(cap > 0)) return InvalidArgument("max_relative_target must be positive, got " + std::to_string(cap));
  }
  std::unique_ptr<So101Arm> arm(new So101Arm(std::move(stream), options));
  EMBODY_TRY(arm->Handshake());
  return arm;
}

Status So101Arm::Handshake() {
  std::string missing, wrong;
  int answered = 0;
  for (int i = 0; i < kSo101Joints; ++i) {
    auto model = bus_->Ping(kSo101Ids[i]);
    if (!model.ok()) {
      missing += "\n  - " + Joint(i) + ": " + model.status().message();
      continue;
    }
    ++answered;
    if (*model != fb::kSts3215ModelNumber) {
      wrong += "\n  - " + Joint(i) + ": model number " + std::to_string(*model) + ", expected 777 (STS3215)";
    }
  }
  const std::string head = Describe() + " at " + std::to_string(options_.baud) + " baud";
  if (answered == 0) {
    return IoError(head + ": no servo answered (ids 1-6). Check that the arm is powered, the USB cable is in, "
                   "the port is the arm's (ls /dev/serial/by-id/), and the servos use this baud rate "
                   "(LeRobot sets 1000000)." + missing);
  }
  if (!missing.empty() || !wrong.empty()) {
    std::string msg = head + ": servo check failed";
    if (!missing.empty()) msg += "\nmissing servos:" + missing;
    if (!wrong.empty()) msg += "\nwrong servos:" + wrong;
    return FailedPrecondition(msg);
  }
  // All servos must run the same firmware (LeRobot's _assert_same_firmware).
  std::string versions;
  std::vector<int> seen;
  for (int i = 0; i < kSo101Joints; ++i) {
    EMBODY_ASSIGN_OR_RETURN(int major, bus_->Read(kSo101Ids[i], fb::reg::kFirmwareMajorVersion));
    EMBODY_ASSIGN_OR_RETURN(int minor, bus_->Read(kSo101Ids[i], fb::reg::kFirmwareMinorVersion));
    seen.push_back(major * 256 + minor);
    versions += "\n  - " + Joint(i) + ": " + std::to_string(major) + "." + std::to_string(minor);
  }
  if (std::adjacent_find(seen.begin(), seen.end(), std::not_equal_to<>()) != seen.end()) {
    return FailedPrecondition(head + ": servos run different firmware versions; update them with Feetech's "
                              "software first:" + versions);
  }
  return Status::Ok();
}

Status So101Arm::SetCalibration(Calibration cal, const std::string& source) {
  EMBODY_TRY(ValidateSo101Calibration(cal, source));
  calibration_ = std::move(cal);
  for (int i = 0; i < kSo101Joints; ++i) cal_by_joint_[i] = calibration_->Find(kSo101MotorNames[i]);
  return Status::Ok();
}

Result<Calibration> So101Arm::ReadCalibrationRegisters() {
  Calibration cal;
  for (int i = 0; i < kSo101Joints; ++i) {
    const uint8_t id = kSo101Ids[i];
    MotorCalibration m;
    m.name = std::string(kSo101MotorNames[i]);
    m.id = id;
    EMBODY_ASSIGN_OR_RETURN(m.homing_offset, bus_->Read(id, fb::reg::kHomingOffset));
    EMBODY_ASSIGN_OR_RETURN(m.range_min, bus_->Read(id, fb::reg::kMinPositionLimit));
    EMBODY_ASSIGN_OR_RETURN(m.range_max, bus_->Read(id, fb::reg::kMaxPositionLimit));
    cal.motors.push_back(m);
  }
  return cal;
}

Result<std::string> So101Arm::CompareCalibration(const Calibration& cal) {
  EMBODY_ASSIGN_OR_RETURN(Calibration regs, ReadCalibrationRegisters());
  std::string diff;
  for (const MotorCalibration& r : regs.motors) {
    const MotorCalibration* f = cal.Find(r.name);
    const std::string who = r.name + " (id " + std::to_string(r.id) + ")";
    if (!f) {
      diff += "  " + who + ": not in the file\n";
      continue;
    }
    auto cmp = [&](const char* field, int file, int servo) {
      if (file != servo)
        diff += "  " + who + ": " + field + " " + std::to_string(file) + " in the file, " + std::to_string(servo) +
                " on the servo\n";
    };
    cmp("homing_offset", f->homing_offset, r.homing_offset);
    cmp("range_min", f->range_min, r.range_min);
    cmp("range_max", f->range_max, r.range_max);
  }
  return diff;
}

Status So101Arm::WriteCalibration(const Calibration& cal) {
  EMBODY_TRY(ValidateSo101Calibration(cal, "calibration"));
  for (int i = 0; i < kSo101Joints; ++i) {
    const MotorCalibration* m = cal.Find(kSo101MotorNames[i]);
    const uint8_t id = kSo101Ids[i];
    EMBODY_TRY(bus_->Write(id, fb::reg::kHomingOffset, m->homing_offset));
    EMBODY_TRY(bus_->Write(id, fb::reg::kMinPositionLimit, m->range_min));
    EMBODY_TRY(bus_->Write(id, fb::reg::kMaxPositionLimit, m->range_max));
  }
  return SetCalibration(cal, "calibration");
}

Status So101Arm::WriteEach(const feetech::Register& reg, int value) {
  for (uint8_t id : kSo101Ids) EMBODY_TRY(bus_->Write(id, reg, value));
  return Status::Ok();
}

Status So101Arm::BeginCalibration() {
  EMBODY_TRY(DisableTorque());
  return WriteEach(fb::reg::kOperatingMode, 0);
}

Result<RawVector> So101Arm::SetHalfTurnHomings() {
  for (uint8_t id : kSo101Ids) {  // LeRobot's reset_calibration
    EMBODY_TRY(bus_->Write(id, fb::reg::kHomingOffset, 0));
    EMBODY_TRY(bus_->Write(id, fb::reg::kMinPositionLimit, 0));
    EMBODY_TRY(bus_->Write(id, fb::reg::kMaxPositionLimit, fb::kSts3215Resolution - 1));
  }
  calibration_.reset();
  EMBODY_ASSIGN_OR_RETURN(RawVector raw, ReadRawPositions());
  RawVector offsets{};
  for (int i = 0; i < kSo101Joints; ++i) {
    offsets[i] = HalfTurnHomingOffset(raw[i]);
    EMBODY_TRY(bus_->Write(kSo101Ids[i], fb::reg::kHomingOffset, offsets[i]));
  }
  return offsets;
}

Result<RawVector> So101Arm::ReadRawPositions() {
  EMBODY_ASSIGN_OR_RETURN(std::vector<int> v, bus_->SyncReadPositions(kSo101Ids));
  RawVector out{};
  std::copy(v.begin(), v.end(), out.begin());
  return out;
}

Status So101Arm::Configure() {
  EMBODY_TRY(DisableTorque());
  EMBODY_TRY(WriteEach(fb::reg::kReturnDelayTime, 0));
  EMBODY_TRY(WriteEach(fb::reg::kMaximumAcceleration, 254));
  EMBODY_TRY(WriteEach(fb::reg::kAcceleration, 254));
  EMBODY_TRY(WriteEach(fb::reg::kOperatingMode, 0));
  if (options_.role == So101Role::kLeader) return Status::Ok();
  EMBODY_TRY(WriteEach(fb::reg::kPCoefficient, options_.p_coefficient));
  EMBODY_TRY(WriteEach(fb::reg::kICoefficient, options_.i_coefficient));
  EMBODY_TRY(WriteEach(fb::reg::kDCoefficient, options_.d_coefficient));
  const uint8_t gripper = kSo101Ids[5];
  EMBODY_TRY(bus_->Write(gripper, fb::reg::kMaxTorqueLimit, 500));    // 50 %: the gripper motor burns out first
  EMBODY_TRY(bus_->Write(gripper, fb::reg::kProtectionCurrent, 250));
  EMBODY_TRY(bus_->Write(gripper, fb::reg::kOverloadTorque, 25));
  // Goal = present before torque comes on: a stale Goal_Position from an earlier session would
  // make the arm jump to it the moment the motors engage.
  EMBODY_ASSIGN_OR_RETURN(std::vector<int> present, bus_->SyncReadPositions(kSo101Ids));
  EMBODY_TRY(bus_->SyncWriteGoalPositions(kSo101Ids, present));
  return EnableTorque();
}

Status So101Arm::EnableTorque() {
  torque_enabled_ = true;  // from the first write on, the destructor must try to release it
  for (uint8_t id : kSo101Ids) {
    EMBODY_TRY(bus_->Write(id, fb::reg::kTorqueEnable, 1));
    EMBODY_TRY(bus_->Write(id, fb::reg::kLock, 1));
  }
  return Status::Ok();
}

Status So101Arm::DisableTorque(int tries) {
  std::string errors;
  for (int i = 0; i < kSo101Joints; ++i) {
    Status last;
    for (int t = 0; t < std::max(1, tries); ++t) {
      last = bus_->Write(kSo101Ids[i], fb::reg::kTorqueEnable, 0);
      if (last.ok()) last = bus_->Write(kSo101Ids[i], fb::reg::kLock, 0);
      if (last.ok()) break;
    }
    if (!last.ok()) errors += "\n  - " + Joint(i) + ": " + last.message();
  }
  if (!errors.empty()) return IoError(Describe() + ": torque release failed for:" + errors);
  torque_enabled_ = false;
  return Status::Ok();
}

Status So101Arm::ReadJoints(JointVector* out) {
  if (!calibration_) return FailedPrecondition(Describe() + ": not calibrated (run embody calibrate)");
  EMBODY_ASSIGN_OR_RETURN(std::vector<int> raw, bus_->SyncReadPositions(kSo101Ids));
  for (int i = 0; i < kSo101Joints; ++i) {
    EMBODY_ASSIGN_OR_RETURN(double v, Normalize(modes_[i], *cal_by_joint_[i], raw[i]));
    (*out)[i] = static_cast<float>(v);
  }
  return Status::Ok();
}

Status So101Arm::SendAction(const JointVector& goal, const JointVector* present, JointVector* sent, int* clamped) {
  if (!calibration_) return FailedPrecondition(Describe() + ": not calibrated (run embody calibrate)");
  JointVector target = goal;
  for (int i = 0; i < kSo101Joints; ++i) {
    if (!std::isfinite(target[i]))
      return InvalidArgument(Describe() + ": goal for " + Joint(i) + " is not a finite number; not sent");
  }
  int n_clamped = 0;
  if (!options_.max_relative_target.empty()) {
    JointVector now{};
    if (!present) {
      EMBODY_TRY(ReadJoints(&now));
      present = &now;
    }
    for (int i = 0; i < kSo101Joints; ++i) {
      const double cap = options_.max_relative_target.size() == 1 ? options_.max_relative_target[0]
                                                                  : options_.max_relative_target[i];
      const double p = (*present)[i];
      const double safe = p + std::clamp(static_cast<double>(target[i]) - p, -cap, cap);
      if (std::abs(safe - target[i]) > 1e-4) ++n_clamped;
      target[i] = static_cast<float>(safe);
    }
  }
  for (int i = 0; i < kSo101Joints; ++i) {
    EMBODY_ASSIGN_OR_RETURN(goal_raw_[i], Unnormalize(modes_[i], *cal_by_joint_[i], target[i]));
  }
  EMBODY_TRY(bus_->SyncWriteGoalPositions(kSo101Ids, goal_raw_));
  if (sent) *sent = target;
  if (clamped) *clamped = n_clamped;
  return Status::Ok();
}

void RangeRecorder::Update(const RawVector& raw) {
  for (int i = 0; i < kSo101Joints; ++i) {
    mins_[i] = samples_ == 0 ? raw[i] : std::min(mins_[i], raw[i]);
    maxes_[i] = samples_ == 0 ? raw[i] : std::max(maxes_[i], raw[i]);
  }
  ++samples_;
}

Status RangeRecorder::Finish(RawVector* mins, RawVector* maxes) const {
  if (samples_ == 0) return FailedPrecondition("range of motion: no positions were recorded");
  *mins = mins_;
  *maxes = maxes_;
  std::string still;
  for (int i = 0; i < kSo101Joints; ++i) {
    if (kSo101MotorNames[i] == "wrist_roll") {  // turns fully: LeRobot fixes its range
      (*mins)[i] = 0;
      (*maxes)[i] = fb::kSts3215Resolution - 1;
      continue;
    }
    if ((*mins)[i] == (*maxes)[i])
      still += (still.empty() ? "" : ", ") + std::string(kSo101MotorNames[i]) + " (id " + std::to_string(i + 1) + ")";
  }
  if (!still.empty())
    return FailedPrecondition("range of motion: these joints did not move (min == max): " + still +
                              "; move every joint except wrist_roll through its whole range");
  return Status::Ok();
}

Calibration MakeSo101Calibration(const RawVector& homing_offsets, const RawVector& mins, const RawVector& maxes) {
  Calibration cal;
  for (int i = 0; i < kSo101Joints; ++i) {
    cal.motors.push_back({std::string(kSo101MotorNames[i]), kSo101Ids[i], 0, homing_offsets[i], mins[i], maxes[i]});
  }
  return cal;
}

}  // namespace embody::robot
