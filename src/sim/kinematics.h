// Closed-form kinematics of the SO-101-class arm in assets/tea_bag_task.xml.
//
// The arm is a pan joint about z followed by three pitch joints about the pan's y axis (a planar
// 3-link chain) and a roll about the hand's axis, so inverse kinematics is planar 2-link IK for
// the wrist point plus the hand's pitch and roll. Angles in radians; 0 = arm straight up.
#pragma once

#include <array>

namespace embody::sim {

struct ArmGeometry {
  double shoulder_height = 0.10;  // shoulder_lift axis above the table
  double upper_arm = 0.116;       // shoulder_lift -> elbow_flex
  double forearm = 0.135;         // elbow_flex -> wrist_flex
  double hand = 0.096;            // wrist_flex -> grasp point (between the finger pads)
};

// A grasp-point pose: position (world, metres), pitch of the hand away from straight down
// (radians, positive tips the fingers away from the base) and the world yaw of the jaws' closing
// axis (radians, meaningful modulo pi).
struct HandPose {
  double x = 0, y = 0, z = 0;
  double pitch = 0;
  double jaw_yaw = 0;
};

// Joint angles of the five arm joints: pan, lift, elbow, wrist_flex, wrist_roll.
using ArmJoints = std::array<double, 5>;

// Returns false when the pose is out of reach (the wrist point is beyond the two links).
bool SolveIk(const ArmGeometry& g, const HandPose& pose, ArmJoints* q);

// The grasp point and pitch for joint angles (jaw_yaw filled for a hand pointing down).
HandPose ForwardKinematics(const ArmGeometry& g, const ArmJoints& q);

}  // namespace embody::sim
