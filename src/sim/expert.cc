#include "sim/expert.h"

#include <algorithm>
#include <cmath>

namespace embody::sim {

namespace {
// Heights of the grasp point (between the finger pads) above the table, metres.
constexpr double kHoverZ = 0.07, kGraspZ = 0.0045, kLiftZ = 0.12, kCarryZ = 0.175;
// Over the mug the hand tips outwards so the held bag hangs edge-down: flat, its 5 x 6 cm would
// not pass the 7.2 cm opening. Outwards, not towards the base: that needs wrist_flex past its limit.
constexpr double kCarryPitch = 1.15;
// a pose clear of the scene, inside every joint limit (also where episodes start)
constexpr HandPose kRest{0.12, 0.0, 0.17, 0.5, 0.0};
constexpr double kSpeed = 0.25;  // m/s of the grasp point on long moves
constexpr double kRollLimit = 2.7;  // inside wrist_roll's range (2.8 rad)

double Smooth(double s) {  // minimum-jerk profile: zero velocity and acceleration at both ends
  s = std::clamp(s, 0.0, 1.0);
  return s * s * s * (10 - 15 * s + 6 * s * s);
}

double WrapHalfTurn(double a) {
  while (a > M_PI / 2) a -= M_PI;
  while (a <= -M_PI / 2) a += M_PI;
  return a;
}

HandPose Lerp(const HandPose& a, const HandPose& b, double s) {
  HandPose p;
  p.x = a.x + (b.x - a.x) * s;
  p.y = a.y + (b.y - a.y) * s;
  p.z = a.z + (b.z - a.z) * s;
  p.pitch = a.pitch + (b.pitch - a.pitch) * s;
  // the jaws are symmetric: turn the short way modulo a half turn
  p.jaw_yaw = a.jaw_yaw + WrapHalfTurn(b.jaw_yaw - a.jaw_yaw) * s;
  return p;
}

ArmJoints MeasuredArm(const Episode& e) {
  const JointVector s = e.state();
  ArmJoints q;
  for (int i = 0; i < 5; ++i) q[i] = Episode::ToJoint(i, s[i]);
  return q;
}
}  // namespace

void Expert::Reset() {
  stage_ = Stage::kStart;
  attempts_ = 0;
}

void Expert::Begin(Stage stage, const HandPose& to, double seconds, float gripper, const Episode& e) {
  stage_ = stage;
  // plan from where the hand is (measured), so a plan survives disturbances and recovery starts
  from_ = ForwardKinematics(task_.geometry(), MeasuredArm(e));
  to_ = to;
  t0_ = e.time();
  duration_ = seconds;
  gripper_from_ = gripper_;
  gripper_ = gripper;
}

JointVector Expert::Act(const Episode& e) {
  const BagPose bag = e.bag();
  const HandPose above_bag{bag.x, bag.y, kHoverZ, 0.0, bag.yaw};
  const bool done_moving = e.time() - t0_ >= duration_ - 1e-9;
  auto travel = [&](const HandPose& to) {
    const HandPose at = ForwardKinematics(task_.geometry(), MeasuredArm(e));
    return std::max(0.8, std::hypot(std::hypot(to.x - at.x, to.y - at.y), to.z - at.z) / kSpeed);
  };

  switch (stage_) {
    case Stage::kStart:
      last_q_ = MeasuredArm(e);
      gripper_ = e.state()[5];
      Begin(Stage::kApproach, above_bag, travel(above_bag), 100, e);
      ++attempts_;
      break;
    case Stage::kApproach:
      if (done_moving) Begin(Stage::kDescend, {bag.x, bag.y, kGraspZ, 0.0, bag.yaw}, 0.7, 100, e);
      break;
    case Stage::kDescend:
      if (done_moving) Begin(Stage::kClose, to_, 0.5, 0, e);
      break;
    case Stage::kClose:
      if (done_moving) Begin(Stage::kLift, {to_.x, to_.y, kLiftZ, 0.0, to_.jaw_yaw}, 0.7, 0, e);
      break;
    case Stage::kLift:
      if (done_moving) {
        // held bags rise with the hand; otherwise try again from above the bag
        if (bag.z > kLiftZ - 0.06 && attempts_ < 4) {
          // jaws across the arm's plane (tangential) at release: with the hand tipped, jaws in the
          // plane would open one finger under the bag and flick it onto the rim
          const double tangential = std::atan2(task_.mug_y(), task_.mug_x()) + M_PI / 2;
          Begin(Stage::kTransport, {task_.mug_x(), task_.mug_y(), kCarryZ, kCarryPitch, tangential}, 1.6, 0, e);
        } else if (attempts_ < 4) {
          ++attempts_;
          Begin(Stage::kApproach, above_bag, travel(above_bag), 100, e);
        } else {
          Begin(Stage::kDone, to_, 0, 0, e);
        }
      }
      break;
    case Stage::kTransport:
      if (done_moving) Begin(Stage::kRelease, to_, 0.6, 100, e);
      break;
    case Stage::kRelease:
      if (done_moving) {
        const bool over_mug = std::hypot(bag.x - task_.mug_x(), bag.y - task_.mug_y()) < TeaBagTask::kMugInnerRadius;
        if (!over_mug && attempts_ < 4) {
          // the bag did not go in (it slipped out on the way): start over
          ++attempts_;
          Begin(Stage::kApproach, above_bag, travel(above_bag), 100, e);
        } else {
          Begin(Stage::kRetreat, kRest, 1.0, 100, e);
        }
      }
      break;
    case Stage::kRetreat:
      if (done_moving) stage_ = Stage::kDone;
      break;
    case Stage::kDone:
      break;
  }

  // where the hand should be now on the current segment
  const double s = duration_ > 0 ? Smooth((e.time() - t0_) / duration_) : 1.0;
  const HandPose target = Lerp(from_, to_, s);
  ArmJoints q;
  if (SolveIk(task_.geometry(), target, &q)) {
    // the jaws are symmetric: of roll and roll +- pi take the one nearer the last target, so the
    // wrist never flips half a turn between ticks
    double roll = last_q_[4] + WrapHalfTurn(q[4] - last_q_[4]);
    if (roll > kRollLimit) roll -= M_PI;
    if (roll < -kRollLimit) roll += M_PI;
    q[4] = roll;
    last_q_ = q;
  }  // out of reach: hold the last target
  JointVector action;
  for (int i = 0; i < 5; ++i) action[i] = Episode::FromJoint(i, last_q_[i]);
  const double gs = duration_ > 0 ? std::clamp((e.time() - t0_) / std::min(duration_, 0.3), 0.0, 1.0) : 1.0;
  action[5] = static_cast<float>(gripper_from_ + (gripper_ - gripper_from_) * gs);
  return action;
}

}  // namespace embody::sim
