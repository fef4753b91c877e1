// The SO-101 follower/leader against the emulated bus: LeRobot's handshake, configure sequence,
// calibration flow, max_relative_target, torque release, and the bad-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "robot/calibration.h"
#include "robot/feetech_protocol.h"
#include "robot/servo_emulator.h"
#include "robot/so101.h"
#include "test_util.h"

namespace embody::robot {
namespace {
namespace fb = feetech;

So101Options Opts(So101Role role = So101Role::kFollower) {
  So101Options o;
  o.role = role;
  o.bus.base_timeout = std::chrono::milliseconds(2);
  return o;
}

struct Rig {
  ServoEmulator emu;
  Rig() {
    for (uint8_t id : kSo101Ids) emu.AddServo(id, 1500 + 100 * id);
  }
  Result<std::unique_ptr<So101Arm>> Connect(const So101Options& o = Opts()) {
    return So101Arm::Connect(std::make_unique<LoopbackStream>(&emu), o);
  }
};

Calibration Centered() {
  return MakeSo101Calibration(RawVector{}, RawVector{1000, 1000, 1000, 1000, 0, 1000},
                              RawVector{3000, 3000, 3000, 3000, 4095, 3000});
}

TEST(So101, HandshakeAndConfigureLikeLeRobot) {
  Rig r;
  auto arm = r.Connect();
  ASSERT_TRUE(arm.ok()) << arm.status().ToString();
  ASSERT_TRUE((*arm)->Configure().ok());
  for (uint8_t id : kSo101Ids) {
    EXPECT_EQ(r.emu.Get(id, "Return_Delay_Time"), 0);
    EXPECT_EQ(r.emu.Get(id, "Maximum_Acceleration"), 254);
    EXPECT_EQ(r.emu.Get(id, "Acceleration"), 254);
    EXPECT_EQ(r.emu.Get(id, "Operating_Mode"), 0);
    EXPECT_EQ(r.emu.Get(id, "P_Coefficient"), 16);
    EXPECT_EQ(r.emu.Get(id, "I_Coefficient"), 0);
    EXPECT_EQ(r.emu.Get(id, "D_Coefficient"), 32);
    EXPECT_EQ(r.emu.Get(id, "Torque_Enable"), 1);
    EXPECT_EQ(r.emu.Get(id, "Lock"), 1);
  }
  EXPECT_EQ(r.emu.Get(6, "Max_Torque_Limit"), 500);
  EXPECT_EQ(r.emu.Get(6, "Protection_Current"), 250);
  EXPECT_EQ(r.emu.Get(6, "Overload_Torque"), 25);
  EXPECT_EQ(r.emu.Get(5, "Max_Torque_Limit"), 1000);
  // Going out of scope releases torque on every servo.
  arm->reset();
  for (uint8_t id : kSo101Ids) {
    EXPECT_EQ(r.emu.Get(id, "Torque_Enable"), 0);
    EXPECT_EQ(r.emu.Get(id, "Lock"), 0);
  }
}

TEST(So101, LeaderKeepsTorqueOff) {
  Rig r;
  auto arm = r.Connect(Opts(So101Role::kLeader));
  ASSERT_TRUE(arm.ok()) << arm.status().ToString();
  ASSERT_TRUE((*arm)->Configure().ok());
  for (uint8_t id : kSo101Ids) {
    EXPECT_EQ(r.emu.Get(id, "Torque_Enable"), 0);
    EXPECT_EQ(r.emu.Get(id, "P_Coefficient"), 32);  // the leader's gains are not touched
  }
}

TEST(So101, HandshakeErrorsNameServos) {
  {
    Rig r;
    r.emu.servo(4).silent = true;
    auto arm = r.Connect();
    ASSERT_FALSE(arm.ok());
    EXPECT_NE(arm.status().message().find("missing servos"), std::string::npos) << arm.status().message();
    EXPECT_NE(arm.status().message().find("wrist_flex (id 4)"), std::string::npos);
    EXPECT_EQ(arm.status().message().find("elbow_flex (id 3)"), std::string::npos);
  }
  {
    auto arm = So101Arm::Connect(std::make_unique<LoopbackStream>(nullptr), Opts());  // nothing on the port
    ASSERT_FALSE(arm.ok());
    EXPECT_NE(arm.status().message().find("no servo answered"), std::string::npos) << arm.status().message();
    EXPECT_NE(arm.status().message().find("baud"), std::string::npos);
  }
  {
    Rig r;
    r.emu.servo(2).regs[3] = 0x04;  // model 1284 (SCS0009)
    r.emu.servo(2).regs[4] = 0x05;
    auto arm = r.Connect();
    ASSERT_FALSE(arm.ok());
    EXPECT_NE(arm.status().message().find("shoulder_lift (id 2): model number 1284"), std::string::npos)
        << arm.status().message();
  }
  {
    Rig r;
    r.emu.servo(6).regs[1] = 9;  // firmware 3.9 among 3.10
    auto arm = r.Connect();
    ASSERT_FALSE(arm.ok());
    EXPECT_NE(arm.status().message().find("different firmware"), std::string::npos) << arm.status().message();
  }
}

TEST(So101, CalibrationFlowLikeLeRobot) {
  Rig r;
  auto arm_or = r.Connect();
  ASSERT_TRUE(arm_or.ok());
  So101Arm& arm = **arm_or;
  ASSERT_TRUE(arm.BeginCalibration().ok());
  // Some earlier calibration is on the servos: it must be reset before reading raw positions.
  ASSERT_TRUE(arm.bus().Write(3, fb::reg::kHomingOffset, 100).ok());
  r.emu.SetPresent(3, 1500);  // shaft at 1600
  auto offsets = arm.SetHalfTurnHomings();
  ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
  EXPECT_EQ((*offsets)[0], 1600 - 2047);
  EXPECT_EQ((*offsets)[2], 1600 - 2047);
  for (uint8_t id : kSo101Ids) EXPECT_EQ(r.emu.Get(id, "Present_Position"), 2047);
  // The user sweeps every joint but wrist_roll.
  RangeRecorder rec;
  for (int step = 0; step < 5; ++step) {
    for (int i = 0; i < kSo101Joints; ++i) {
      if (i != 4) r.emu.SetPresent(kSo101Ids[i], 2047 + (step - 2) * (300 + 50 * i));
    }
    auto raw = arm.ReadRawPositions();
    ASSERT_TRUE(raw.ok());
    rec.Update(*raw);
  }
  RawVector mins{}, maxes{};
  ASSERT_TRUE(rec.Finish(&mins, &maxes).ok());
  EXPECT_EQ(mins[0], 2047 - 600);
  EXPECT_EQ(maxes[1], 2047 + 700);
  EXPECT_EQ(mins[4], 0);
  EXPECT_EQ(maxes[4], 4095);
  const Calibration cal = MakeSo101Calibration(*offsets, mins, maxes);
  ASSERT_TRUE(arm.WriteCalibration(cal).ok());
  auto diff = arm.CompareCalibration(cal);
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff, "");
  // A file from another arm: the registers disagree, naming the servo and the field.
  Calibration other = cal;
  other.motors[1].homing_offset += 37;
  diff = arm.CompareCalibration(other);
  ASSERT_TRUE(diff.ok());
  EXPECT_NE(diff->find("shoulder_lift (id 2): homing_offset"), std::string::npos) << *diff;
  // Normalization now reads the mid pose as 0 degrees on the arm joints.
  JointVector q{};
  r.emu.SetPresent(1, (mins[0] + maxes[0]) / 2);
  ASSERT_TRUE(arm.ReadJoints(&q).ok());
  EXPECT_NEAR(q[0], 0.0, 0.1);
}

TEST(So101, RangeRecorderNamesStillJoints) {
  RangeRecorder rec;
  rec.Update(RawVector{1, 2, 3, 4, 5, 6});
  rec.Update(RawVector{9, 2, 9, 9, 5, 9});
  RawVector mins{}, maxes{};
  Status s = rec.Finish(&mins, &maxes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("shoulder_lift (id 2)"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("wrist_roll (id"), std::string::npos);  // its range is fixed, not recorded
}

TEST(So101, MaxRelativeTargetClampsEachStep) {
  Rig r;
  So101Options o = Opts();
  o.max_relative_target = {5.0};
  auto arm_or = r.Connect(o);
  ASSERT_TRUE(arm_or.ok());
  So101Arm& arm = **arm_or;
  ASSERT_TRUE(arm.WriteCalibration(Centered()).ok());
  ASSERT_TRUE(arm.Configure().ok());
  for (uint8_t id : kSo101Ids) r.emu.SetPresent(id, 2000);
  JointVector present{};
  ASSERT_TRUE(arm.ReadJoints(&present).ok());
  JointVector goal = present;
  goal[0] += 30;  // degrees
  goal[5] -= 1;   // gripper, within the cap
  JointVector sent{};
  int clamped = 0;
  ASSERT_TRUE(arm.SendAction(goal, &present, &sent, &clamped).ok());
  EXPECT_EQ(clamped, 1);
  EXPECT_NEAR(sent[0], present[0] + 5, 1e-4);
  EXPECT_NEAR(sent[5], goal[5], 1e-4);
  EXPECT_EQ(r.emu.Get(1, "Goal_Position"), *Unnormalize(NormMode::kDegrees, Centered().motors[0], sent[0]));
  // Without the present reading the arm reads it itself (LeRobot's extra round trip).
  ASSERT_TRUE(arm.SendAction(goal, nullptr, &sent, &clamped).ok());
  EXPECT_EQ(clamped, 1);
  // A non-finite goal is refused and nothing is written.
  const int before = r.emu.Get(2, "Goal_Position");
  goal[1] = std::nanf("");
  Status s = arm.SendAction(goal, &present);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("shoulder_lift (id 2)"), std::string::npos) << s.message();
  EXPECT_EQ(r.emu.Get(2, "Goal_Position"), before);
  // Per-joint caps must be six.
  o.max_relative_target = {1, 2, 3};
  EXPECT_FALSE(r.Connect(o).ok());
}

TEST(So101, ServoFaultsAreErrorsThatNameTheServo) {
  Rig r;
  auto arm_or = r.Connect();
  ASSERT_TRUE(arm_or.ok());
  So101Arm& arm = **arm_or;
  ASSERT_TRUE(arm.WriteCalibration(Centered()).ok());
  JointVector q{};
  r.emu.servo(3).error_bits = fb::kErrVoltage;
  Status s = arm.ReadJoints(&q);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("servo 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("input voltage error"), std::string::npos) << s.message();
  r.emu.servo(3).error_bits = 0;
  r.emu.servo(2).always_corrupt = true;
  s = arm.ReadJoints(&q);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("servo 2: corrupt reply"), std::string::npos) << s.message();
  r.emu.servo(2).always_corrupt = false;
  r.emu.servo(2).corrupt_replies = 1;  // one garbled reply is retried
  EXPECT_TRUE(arm.ReadJoints(&q).ok());
}

TEST(So101, TorqueIsReleasedEvenWhenOneServoIsGone) {
  Rig r;
  {
    auto arm_or = r.Connect();
    ASSERT_TRUE(arm_or.ok());
    ASSERT_TRUE((*arm_or)->Configure().ok());
    r.emu.servo(3).silent = true;  // stops answering mid-run
    Status s = (*arm_or)->DisableTorque(2);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("elbow_flex (id 3)"), std::string::npos) << s.message();
    EXPECT_TRUE((*arm_or)->torque_enabled());  // still owed: the destructor tries again
  }
  for (uint8_t id : kSo101Ids) {
    if (id != 3) {
      EXPECT_EQ(r.emu.Get(id, "Torque_Enable"), 0) << int(id);
    }
  }
}

TEST(So101, CalibrationPathIsLeRobots) {
  EXPECT_EQ(So101CalibrationPath(So101Role::kFollower, "arm1", "/x"), "/x/arm1.json");
  const std::string p = So101CalibrationPath(So101Role::kLeader, "lead");
  EXPECT_NE(p.find("teleoperators/so_leader/lead.json"), std::string::npos) << p;
}

}  // namespace
}  // namespace embody::robot
