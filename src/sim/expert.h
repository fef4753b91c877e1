// A scripted expert for the tea-bag task: waypoints in the hand's pose, inverse kinematics every
// tick, a grasp check after lifting (and a retry from the top when the bag is not held).
//
// It reads the bag's true pose from the episode (privileged), as scripted demonstrators in sim
// do. Deterministic: the same episode gives the same actions.
#pragma once

#include "sim/episode.h"
#include "sim/kinematics.h"

namespace embody::sim {

class Expert {
 public:
  explicit Expert(const TeaBagTask& task) : task_(task) {}

  // Forget the plan; call after Episode::Reset.
  void Reset();
  // The action for the current tick.
  JointVector Act(const Episode& episode);

  int attempts() const { return attempts_; }  // grasp attempts so far
  bool finished() const { return stage_ == Stage::kDone; }

 private:
  enum class Stage { kStart, kApproach, kDescend, kClose, kLift, kTransport, kRelease, kRetreat, kDone };
  void Begin(Stage stage, const HandPose& to, double seconds, float gripper, const Episode& e);

  const TeaBagTask& task_;
  Stage stage_ = Stage::kStart;
  HandPose from_, to_;
  double t0_ = 0, duration_ = 0;
  float gripper_ = 50, gripper_from_ = 50;
  ArmJoints last_q_{};
  int attempts_ = 0;
};

}  // namespace embody::sim
