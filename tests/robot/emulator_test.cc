// The emulated STS3215 itself (homing-offset frame, motor model, overload protection, broadcast
// ping), the pty bus's baud check, and the control-loop clock.
#include <gtest/gtest.h>

#include <thread>

#include "robot/feetech_bus.h"
#include "robot/feetech_protocol.h"
#include "robot/loop_timer.h"
#include "robot/servo_emulator.h"

namespace embody::robot {
namespace {
namespace fb = feetech;

TEST(ServoEmulator, HomingOffsetFrameAndLimits) {
  ServoEmulator emu;
  emu.AddServo(1, 3000);
  LoopbackStream s(&emu);
  FeetechBus bus(s);
  // Present = Actual - Homing_Offset: the shaft stays, the reading moves.
  ASSERT_TRUE(bus.Write(1, fb::reg::kHomingOffset, 953).ok());
  EXPECT_EQ(*bus.Read(1, fb::reg::kPresentPosition), 2047);
  // Goals are in the same frame and clamped to the position limits.
  ASSERT_TRUE(bus.Write(1, fb::reg::kMaxPositionLimit, 2500).ok());
  ASSERT_TRUE(bus.Write(1, fb::reg::kGoalPosition, 3900).ok());
  ASSERT_TRUE(bus.Write(1, fb::reg::kTorqueEnable, 1).ok());
  for (int i = 0; i < 100; ++i) emu.Advance(0.01);
  EXPECT_EQ(*bus.Read(1, fb::reg::kPresentPosition), 2500);
  // Torque off: the hand moves the shaft.
  ASSERT_TRUE(bus.Write(1, fb::reg::kTorqueEnable, 0).ok());
  emu.SetPresent(1, 100);
  EXPECT_EQ(*bus.Read(1, fb::reg::kPresentPosition), 100);
}

TEST(ServoEmulator, MotorModelIsSpeedLimited) {
  ServoEmulator emu(MotorModel{1000, 50, 0.5});
  emu.AddServo(1, 1000);
  LoopbackStream s(&emu);
  FeetechBus bus(s);
  ASSERT_TRUE(bus.Write(1, fb::reg::kGoalPosition, 3000).ok());
  ASSERT_TRUE(bus.Write(1, fb::reg::kTorqueEnable, 1).ok());
  emu.Advance(0.5);  // 1000 ticks/s for 0.5 s
  EXPECT_NEAR(*bus.Read(1, fb::reg::kPresentPosition), 1500, 1);
  EXPECT_EQ(*bus.Read(1, fb::reg::kMoving), 1);
  EXPECT_GT(*bus.Read(1, fb::reg::kPresentLoad), 0);
}

TEST(ServoEmulator, BlockedShaftTripsOverloadAndDropsTorque) {
  ServoEmulator emu;
  emu.AddServo(1, 1000);
  emu.servo(1).blocked = true;
  LoopbackStream s(&emu);
  FeetechBus bus(s);
  ASSERT_TRUE(bus.Write(1, fb::reg::kGoalPosition, 2000).ok());
  ASSERT_TRUE(bus.Write(1, fb::reg::kTorqueEnable, 1).ok());
  for (int i = 0; i < 60; ++i) emu.Advance(0.01);
  auto r = bus.Read(1, fb::reg::kPresentPosition);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("overload error"), std::string::npos) << r.status().message();
  EXPECT_EQ(emu.Get(1, "Torque_Enable"), 0);
}

TEST(ServoEmulator, BroadcastPingEveryServoAnswers) {
  ServoEmulator emu;
  for (uint8_t id = 1; id <= 3; ++id) emu.AddServo(id);
  auto reply = emu.Handle(*fb::PingPacket(fb::kBroadcastId));
  EXPECT_EQ(reply.size(), 3u * 6u);
}

TEST(PtyServoBus, WrongBaudRateGetsNoAnswer) {
  PtyServoBus pty;
  ASSERT_TRUE(pty.ok()) << pty.error();
  pty.With([](ServoEmulator& e) { e.AddServo(1); });
  {
    auto port = SerialPort::Open(pty.slave_path(), 57600);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    FeetechBusOptions o;
    o.base_timeout = std::chrono::milliseconds(10);
    FeetechBus bus(**port, o);
    auto m = bus.Ping(1);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("baud rate"), std::string::npos) << m.status().message();
    EXPECT_GT(pty.wrong_baud_bytes(), 0u);
  }
  auto port = SerialPort::Open(pty.slave_path());
  ASSERT_TRUE(port.ok());
  FeetechBus bus(**port);
  EXPECT_TRUE(bus.Ping(1).ok());
}

TEST(LoopTimer, PacesAndCountsMissedDeadlines) {
  LoopTimer t(200, 100);  // 5 ms
  t.Start();
  for (int i = 0; i < 20; ++i) {
    if (i == 10) std::this_thread::sleep_for(std::chrono::milliseconds(12));  // overruns two periods
    t.WaitNext();
  }
  const LoopStats s = t.Stats();
  EXPECT_EQ(s.ticks, 21);
  EXPECT_EQ(s.missed, 1);
  EXPECT_GE(s.skipped_slots, 1);
  EXPECT_GE(t.Elapsed(), 20 * 0.005);
  EXPECT_GE(s.work_max_ms, 12.0);
}

}  // namespace
}  // namespace embody::robot
