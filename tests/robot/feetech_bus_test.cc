// FeetechBus against the emulated STS3215 bus: in memory (deterministic faults) and on a
// pseudo-terminal through the real termios SerialPort.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "robot/feetech_bus.h"
#include "robot/servo_emulator.h"
#include "test_util.h"

namespace embody::robot {
namespace {


namespace fb = feetech;

const std::vector<uint8_t> kIds = {1, 2, 3, 4, 5, 6};

FeetechBusOptions Fast() {
  FeetechBusOptions o;
  o.base_timeout = std::chrono::milliseconds(5);
  return o;
}

struct Rig {
  ServoEmulator emu;
  LoopbackStream stream{&emu};
  FeetechBus bus{stream, Fast()};
  Rig() {
    for (uint8_t id : kIds) emu.AddServo(id, 1000 + 100 * id);
  }
};

TEST(FeetechBus, PingReadWrite) {
  Rig r;
  auto model = r.bus.Ping(3);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(*model, 777);
  // The bytes on the wire are the SDK's.
  std::vector<uint8_t> expect = *fb::PingPacket(3);
  auto rd = *fb::ReadPacket(3, 3, 2);
  expect.insert(expect.end(), rd.begin(), rd.end());
  EXPECT_EQ(r.stream.written, expect);
  auto pos = r.bus.Read(3, fb::reg::kPresentPosition);
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(*pos, 1300);
  ASSERT_TRUE(r.bus.Write(2, fb::reg::kHomingOffset, -300).ok());
  EXPECT_EQ(r.emu.Register16(2, 31), (1 << 11) | 300);
  EXPECT_EQ(*r.bus.Read(2, fb::reg::kHomingOffset), -300);
  ASSERT_TRUE(r.bus.Write(4, fb::reg::kTorqueEnable, 1).ok());
  EXPECT_EQ(*r.bus.Read(4, fb::reg::kTorqueEnable), 1);
  EXPECT_EQ(r.bus.counters().timeouts, 0u);
  EXPECT_EQ(r.bus.counters().retries, 0u);
}

TEST(FeetechBus, SyncReadAndSyncWrite) {
  Rig r;
  auto p = r.bus.SyncReadPositions(kIds);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, (std::vector<int>{1100, 1200, 1300, 1400, 1500, 1600}));
  const std::vector<int> goals = {2048, 1500, 2600, 100, 4000, 1234};
  r.stream.written.clear();
  ASSERT_TRUE(r.bus.SyncWriteGoalPositions(kIds, goals).ok());
  EXPECT_EQ(r.stream.written, testing::FromHex(testing::Case("sync_write_goal_position_1to6")["tx"]));
  for (size_t i = 0; i < kIds.size(); ++i) EXPECT_EQ(r.emu.Register16(kIds[i], 42), goals[i]);
  // Torque on, motors move, present follows goal.
  const std::vector<int> ones(6, 1);
  ASSERT_TRUE(r.bus.SyncWrite(fb::reg::kTorqueEnable, kIds, ones).ok());
  r.emu.Step();
  EXPECT_EQ(*r.bus.SyncReadPositions(kIds), goals);
  // Negative goal: sign-magnitude bit 15.
  ASSERT_TRUE(r.bus.SyncWriteGoalPositions(std::vector<uint8_t>{1}, std::vector<int>{-5}).ok());
  EXPECT_EQ(r.emu.Register16(1, 42), 0x8005);
  EXPECT_FALSE(r.bus.SyncWriteGoalPositions(kIds, std::vector<int>{1, 2}).ok());
}

TEST(FeetechBus, DeadPortTimesOutNamingPortAndServo) {
  LoopbackStream dead(nullptr);
  FeetechBus bus(dead, Fast());
  auto m = bus.Ping(1);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kIoError);
  EXPECT_NE(m.status().message().find("servo 1 on loopback"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("timeout"), std::string::npos);
  EXPECT_NE(m.status().message().find("3 tries"), std::string::npos);
  EXPECT_EQ(bus.counters().timeouts, 3u);
  EXPECT_EQ(bus.counters().retries, 2u);
}

TEST(FeetechBus, MissingServoInSyncReadIsNamed) {
  Rig r;
  r.emu.servo(4).silent = true;
  auto p = r.bus.SyncReadPositions(kIds);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kIoError);
  EXPECT_NE(p.status().message().find("servo 4: no reply (timeout)"), std::string::npos) << p.status().message();
  EXPECT_EQ(p.status().message().find("servo 3"), std::string::npos);
  EXPECT_EQ(r.bus.counters().timeouts, 3u);
}

TEST(FeetechBus, TransientFaultsAreRetriedAndCounted) {
  Rig r;
  r.emu.servo(2).corrupt_replies = 1;
  r.emu.servo(5).drop_replies = 1;
  auto p = r.bus.SyncReadPositions(kIds);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)[1], 1200);
  EXPECT_EQ(r.bus.counters().checksum_errors, 1u);
  EXPECT_EQ(r.bus.counters().timeouts, 1u);
  EXPECT_EQ(r.bus.counters().retries, 1u);
  r.emu.servo(3).corrupt_replies = 2;
  auto v = r.bus.Read(3, fb::reg::kPresentPosition);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(r.bus.counters().retries, 3u);
}

TEST(FeetechBus, PersistentCorruptionIsDataLoss) {
  Rig r;
  r.emu.servo(6).always_corrupt = true;
  auto v = r.bus.Read(6, fb::reg::kPresentPosition);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(v.status().message().find("servo 6 on loopback: read Present_Position: corrupt reply"), std::string::npos)
      << v.status().message();
  auto p = r.bus.SyncReadPositions(kIds);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("servo 6: corrupt reply"), std::string::npos);
}

TEST(FeetechBus, GarbageBeforeReplyIsSkipped) {
  Rig r;
  r.stream.garbage_before_reply = {0x00, 0xFF, 0x13, 0xFF, 0xFF, 0xFE, 0xFF};
  auto v = r.bus.Read(1, fb::reg::kPresentPosition);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 1100);
  EXPECT_GT(r.bus.counters().stray_packets, 0u);
}

TEST(FeetechBus, ErrorBitsNameTheFault) {
  Rig r;
  r.emu.servo(2).error_bits = fb::kErrOverload | fb::kErrVoltage;
  auto v = r.bus.Read(2, fb::reg::kPresentPosition);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("servo 2 on loopback: read Present_Position: servo reported input voltage error, overload error (status error byte 0x21)"),
            std::string::npos)
      << v.status().message();
  EXPECT_EQ(r.bus.counters().retries, 0u);  // error bits are not retried (as LeRobot)
  auto p = r.bus.SyncReadPositions(kIds);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("servo 2"), std::string::npos);

  FeetechBusOptions lenient = Fast();
  lenient.error_bits_fatal = false;
  FeetechBus bus2(r.stream, lenient);
  auto p2 = bus2.SyncReadPositions(kIds);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(bus2.counters().servo_errors, 1u);
  EXPECT_EQ(bus2.counters().last_error_bits, 0x21);
}

TEST(SerialPort, OpenErrorsNameTheDevice) {
  auto p = SerialPort::Open("/dev/does-not-exist-ttyACM9");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kIoError);
  EXPECT_NE(p.status().message().find("/dev/does-not-exist-ttyACM9"), std::string::npos);
  EXPECT_NE(p.status().message().find("plugged"), std::string::npos);
  auto q = SerialPort::Open("/dev/null");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("/dev/null: not a terminal"), std::string::npos) << q.status().message();
  auto b = SerialPort::Open("/dev/null", 12345);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("baud"), std::string::npos);
}

TEST(SerialPort, PseudoTerminalBusEndToEnd) {
  PtyServoBus pty;
  ASSERT_TRUE(pty.ok());
  pty.With([](ServoEmulator& e) { for (uint8_t id : kIds) e.AddServo(id, 2000 + id); });
  auto port = SerialPort::Open(pty.slave_path());
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  FeetechBus bus(**port);
  for (uint8_t id : kIds) {
    auto m = bus.Ping(id);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(*m, 777);
  }
  auto p = bus.SyncReadPositions(kIds);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)[0], 2001);
  ASSERT_TRUE(bus.SyncWrite(fb::reg::kTorqueEnable, kIds, std::vector<int>(6, 1)).ok());
  ASSERT_TRUE(bus.SyncWriteGoalPositions(kIds, std::vector<int>(6, 2300)).ok());
  // The motor model moves the shafts in real time; poll until every joint arrives (~0.3 s).
  std::vector<int> now;
  for (int i = 0; i < 200; ++i) {
    auto q = bus.SyncReadPositions(kIds);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    now = *q;
    if (now == std::vector<int>(6, 2300)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(now, std::vector<int>(6, 2300));
  // A servo that stops answering mid-run: a timeout naming it, after the bounded retries.
  pty.With([](ServoEmulator& e) { e.servo(5).silent = true; });
  const auto t0 = std::chrono::steady_clock::now();
  auto bad = bus.Read(5, fb::reg::kPresentPosition);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("servo 5 on " + pty.slave_path()), std::string::npos) << bad.status().message();
  EXPECT_GE(ms, 3 * 50.0);  // three tries of the 50 ms reply deadline
  EXPECT_LT(ms, 2000.0);
  // Corrupt replies on the pty.
  pty.With([](ServoEmulator& e) { e.servo(5).silent = false; e.servo(5).corrupt_replies = 1; });
  auto ok = bus.Read(5, fb::reg::kPresentPosition);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(bus.counters().checksum_errors, 1u);
}

}  // namespace
}  // namespace embody::robot
