// One episode of the tea-bag task: the mutable MuJoCo state over a const TeaBagTask.
//
// Units are LeRobot's for the SO-101 follower: arm joints in degrees, gripper 0 (closed) to 100
// (open). The degree zero is the model's zero pose (arm straight up), not a calibration's middle.
#pragma once

#include <array>
#include <cstdint>

#include "core/status.h"
#include "sim/task.h"

namespace embody::sim {

// observation.state / action: kNumJoints values in kJointNames order.
using JointVector = std::array<float, kNumJoints>;

struct EpisodeSpec {
  uint64_t seed = 0;
  int cluster = kValidationCluster;
  bool recovery = false;  // start near the mug or after a missed grasp, away from the bag
};

// The tea bag's pose: centre (metres) and yaw of its 5 cm axis (radians).
struct BagPose {
  double x = 0, y = 0, z = 0, yaw = 0;
};

// observation.environment_state: the bag's pose as a policy input (LeRobot's ENV feature, as
// gym-pusht's keypoints). Privileged: a real robot has no such sensor, so policies trained on it
// measure what the rest of the chain does when perception is solved, not a deployable policy.
// [x, y, z] in metres, then cos and sin of the yaw (continuous where the angle wraps).
inline constexpr int kEnvStateDim = 5;
using EnvStateVector = std::array<float, kEnvStateDim>;
EnvStateVector EnvState(const BagPose& bag);

class Episode {
 public:
  explicit Episode(const TeaBagTask& task);
  ~Episode();
  Episode(const Episode&) = delete;
  Episode& operator=(const Episode&) = delete;

  // Samples the bag in spec.cluster and the arm's start pose from spec.seed.
  Status Reset(const EpisodeSpec& spec);
  // Applies action (target positions, clamped to the joints' limits) for one control tick.
  Status Step(const JointVector& action);

  JointVector state() const;        // observation.state
  const JointVector& last_action() const { return action_; }
  double time() const;              // seconds since Reset
  int tick() const { return tick_; }
  BagPose bag() const;              // privileged: for the scripted expert and metrics
  EnvStateVector env_state() const { return EnvState(bag()); }
  bool bag_in_mug() const;          // the bag is inside the mug and at rest, now
  double time_to_success() const { return time_to_success_; }  // < 0 until success
  double success_held() const;      // seconds the success condition has held (0 if not now)
  bool timed_out() const { return time() >= task_.options().episode_seconds - 1e-9; }
  const EpisodeSpec& spec() const { return spec_; }

  const TeaBagTask& task() const { return task_; }
  const mjData* data() const { return data_; }

  // Unit conversions between LeRobot values and joint positions (radians / metres).
  static double ToJoint(int joint, float value);
  static float FromJoint(int joint, double q);

 private:
  void SetArm(const ArmJoints& q, double gripper_q);

  const TeaBagTask& task_;
  mjData* data_ = nullptr;
  EpisodeSpec spec_;
  JointVector action_{};
  int tick_ = 0;
  double time_to_success_ = -1;
  double success_since_ = -1;
};

}  // namespace embody::sim
