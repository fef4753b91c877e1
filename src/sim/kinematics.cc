#include "sim/kinematics.h"

#include <cmath>

namespace embody::sim {

namespace {
// Wraps to (-pi/2, pi/2]: the parallel jaws are symmetric, so a roll and roll + pi grasp alike.
double WrapHalfTurn(double a) {
  while (a > M_PI / 2) a -= M_PI;
  while (a <= -M_PI / 2) a += M_PI;
  return a;
}
}  // namespace

bool SolveIk(const ArmGeometry& g, const HandPose& p, ArmJoints* q) {
  const double pan = std::atan2(p.y, p.x);
  const double r = std::hypot(p.x, p.y);
  // wrist point in the arm's plane (r outwards, z up), relative to the shoulder
  const double a = r - g.hand * std::sin(p.pitch);
  const double b = p.z + g.hand * std::cos(p.pitch) - g.shoulder_height;
  const double d2 = a * a + b * b;
  const double c2 = (d2 - g.upper_arm * g.upper_arm - g.forearm * g.forearm) / (2 * g.upper_arm * g.forearm);
  if (c2 > 1.0 || c2 < -1.0) return false;
  // elbow bends forwards (positive), the SO-101's natural posture
  const double elbow = std::acos(c2);
  const double lift = std::atan2(a, b) - std::atan2(g.forearm * std::sin(elbow), g.upper_arm + g.forearm * std::cos(elbow));
  // the hand's direction from vertical is pi - pitch
  const double wrist = M_PI - p.pitch - lift - elbow;
  // at roll 0 the jaws close along -radial; rotating by roll about the downward hand axis turns
  // them by -roll about world z
  const double roll = WrapHalfTurn(pan + M_PI - p.jaw_yaw);
  *q = {pan, lift, elbow, std::remainder(wrist, 2 * M_PI), roll};
  return true;
}

HandPose ForwardKinematics(const ArmGeometry& g, const ArmJoints& q) {
  const double t1 = q[1], t12 = q[1] + q[2], t123 = q[1] + q[2] + q[3];
  const double r = g.upper_arm * std::sin(t1) + g.forearm * std::sin(t12) + g.hand * std::sin(t123);
  const double z = g.shoulder_height + g.upper_arm * std::cos(t1) + g.forearm * std::cos(t12) + g.hand * std::cos(t123);
  HandPose p;
  p.x = r * std::cos(q[0]);
  p.y = r * std::sin(q[0]);
  p.z = z;
  p.pitch = std::remainder(M_PI - t123, 2 * M_PI);
  p.jaw_yaw = q[0] + M_PI - q[4];
  return p;
}

}  // namespace embody::sim
