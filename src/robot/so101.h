// The SO-101 arm as LeRobot 0.4.4 drives it (robots/so_follower, teleoperators/so_leader): six
// STS3215 servos, ids 1..6, on one Feetech bus; the follower holds positions with torque, the
// leader is moved by hand with torque off.
//
// Safety contract: once a follower's torque is on, it is released (Torque_Enable 0, Lock 0, up to
// 5 tries per servo, every servo even if one fails) by DisableTorque(), by the destructor (unless
// disable_torque_on_disconnect is false), and therefore on any error path that drops the arm.
// SIGINT handling is the caller's: stop the loop, then let the arm go out of scope.
//
// Not thread-safe: one thread owns an arm (the control loop).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "robot/calibration.h"
#include "robot/feetech_bus.h"

namespace embody::robot {

enum class So101Role { kFollower, kLeader };

inline constexpr int kSo101Joints = 6;
inline constexpr uint8_t kSo101Ids[kSo101Joints] = {1, 2, 3, 4, 5, 6};
// Joint values in LeRobot's units (degrees for joints 1-5 with use_degrees, 0..100 for the
// gripper), in kSo101MotorNames order: the "<name>.pos" features of observations and actions.
using JointVector = std::array<float, kSo101Joints>;
using RawVector = std::array<int, kSo101Joints>;

// "so_follower" / "so_leader": LeRobot's robot.name, the calibration subfolder.
std::string_view So101RoleName(So101Role role);
// LeRobot's calibration file for an arm id: $HF_LEROBOT_CALIBRATION, else $HF_LEROBOT_HOME/calibration,
// else $HF_HOME/lerobot/calibration, else ~/.cache/huggingface/lerobot/calibration; then
// robots/so_follower/<id>.json or teleoperators/so_leader/<id>.json. `dir` (non-empty) replaces
// the whole folder, like LeRobot's calibration_dir.
std::string So101CalibrationPath(So101Role role, const std::string& id, const std::string& dir = "");

struct So101Options {
  So101Role role = So101Role::kFollower;
  std::string port;          // e.g. /dev/ttyACM0
  int baud = 1'000'000;      // the bus rate (LeRobot's default)
  bool use_degrees = true;   // LeRobot 0.4.4 default: joints 1-5 in degrees, else -100..100
  // LeRobot's max_relative_target: per control step, each goal is clamped to present +- cap
  // (normalized units). Empty: no cap; one value: every joint; six: per joint.
  std::vector<double> max_relative_target;
  bool disable_torque_on_disconnect = true;
  int num_retries = 2;       // LeRobot's num_read_retries
  // Follower position loop gains LeRobot writes on configure (servo default P is 32).
  int p_coefficient = 16, i_coefficient = 0, d_coefficient = 32;
  FeetechBusOptions bus;     // num_retries above overrides bus.num_retries
};

class So101Arm {
 public:
  // Opens `options.port` at `options.baud` and checks the servos (LeRobot's handshake): ids 1..6
  // all answer a ping with model 777 and report the same firmware. The error lists every missing
  // or wrong servo by id and name, and says when nothing answered at all (power, cable, baud).
  static Result<std::unique_ptr<So101Arm>> Connect(const So101Options& options);
  // Same over an already-open stream (tests, an emulator in memory).
  static Result<std::unique_ptr<So101Arm>> Connect(std::unique_ptr<ByteStream> stream, const So101Options& options);

  ~So101Arm();  // releases torque (follower, disable_torque_on_disconnect) and closes the port
  So101Arm(const So101Arm&) = delete;
  So101Arm& operator=(const So101Arm&) = delete;

  // --- calibration (LeRobot's file and registers) ---
  // The calibration used for normalization; ReadJoints/SendAction need one.
  const std::optional<Calibration>& calibration() const { return calibration_; }
  // Uses `cal` for normalization without writing it (REQUIRES: ValidateSo101Calibration passed).
  Status SetCalibration(Calibration cal, const std::string& source);
  // Homing_Offset, Min/Max_Position_Limit of every servo, as a calibration.
  Result<Calibration> ReadCalibrationRegisters();
  // "" when the servos' registers equal `cal` (LeRobot's is_calibrated), else one line per
  // differing servo: "shoulder_pan (id 1): homing_offset 12 in the file, -300 on the servo".
  Result<std::string> CompareCalibration(const Calibration& cal);
  // Writes Homing_Offset and the position limits of every servo (torque must be off for the
  // EPROM to accept them on real servos) and uses `cal` from now on.
  Status WriteCalibration(const Calibration& cal);

  // --- LeRobot's interactive calibration, step by step (the CLI does the prompting) ---
  // Torque off, Operating_Mode 0 on every servo.
  Status BeginCalibration();
  // Resets the calibration registers (offset 0, limits 0..4095), reads the raw positions and
  // writes Homing_Offset = raw - 2047 so the present pose reads mid-range. Returns the offsets.
  Result<RawVector> SetHalfTurnHomings();
  // Raw Present_Position of every servo (no normalization).
  Result<RawVector> ReadRawPositions();

  // --- configuration and control ---
  // Follower: with torque off, Return_Delay_Time 0, Maximum_Acceleration 254, Acceleration 254,
  // Operating_Mode 0, P/I/D from options, gripper Max_Torque_Limit 500, Protection_Current 250,
  // Overload_Torque 25; Goal_Position = Present_Position (no jump to a stale goal); then torque on
  // (Torque_Enable 1, Lock 1).
  // Leader: torque off, the same bus settings and Operating_Mode 0; torque stays off.
  Status Configure();
  Status EnableTorque();
  // Torque off on every servo, up to `tries` per servo; errors of all servos are reported together.
  Status DisableTorque(int tries = 5);
  bool torque_enabled() const { return torque_enabled_; }

  // Sync read of Present_Position, normalized. REQUIRES: a calibration.
  Status ReadJoints(JointVector* out);
  // Sends goals (normalized) with one sync write. With max_relative_target, each goal is first
  // clamped to present +- cap; `present` is this tick's reading (null: read it now, an extra bus
  // round trip as in LeRobot). `sent` (optional) receives what was sent; returns how many joints
  // were clamped in *clamped (optional).
  Status SendAction(const JointVector& goal, const JointVector* present, JointVector* sent = nullptr,
                    int* clamped = nullptr);

  So101Role role() const { return options_.role; }
  const So101Options& options() const { return options_; }
  const std::string& port() const { return stream_->name(); }
  FeetechBus& bus() { return *bus_; }
  // "so_follower on /dev/ttyACM0" for messages.
  std::string Describe() const;

 private:
  So101Arm(std::unique_ptr<ByteStream> stream, const So101Options& options);
  Status Handshake();
  Status WriteEach(const feetech::Register& reg, int value);
  std::string Joint(int i) const;

  So101Options options_;
  std::unique_ptr<ByteStream> stream_;
  std::unique_ptr<FeetechBus> bus_;
  std::optional<Calibration> calibration_;
  std::array<NormMode, kSo101Joints> modes_{};
  std::array<const MotorCalibration*, kSo101Joints> cal_by_joint_{};
  bool torque_enabled_ = false;
  std::vector<int> goal_raw_;  // reused by SendAction
};

// Range-of-motion recording (LeRobot's record_ranges_of_motion): feed raw positions while the
// user moves every joint; Finish() returns mins/maxes, wrist_roll fixed to 0..4095, and fails
// naming every joint that did not move.
class RangeRecorder {
 public:
  void Update(const RawVector& raw);
  const RawVector& mins() const { return mins_; }
  const RawVector& maxes() const { return maxes_; }
  int samples() const { return samples_; }
  Status Finish(RawVector* mins, RawVector* maxes) const;

 private:
  RawVector mins_{}, maxes_{};
  int samples_ = 0;
};

// The calibration LeRobot saves from homing offsets and recorded ranges (drive_mode 0).
Calibration MakeSo101Calibration(const RawVector& homing_offsets, const RawVector& mins, const RawVector& maxes);

}  // namespace embody::robot
