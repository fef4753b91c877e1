// Packet bytes against golden vectors captured from scservo_sdk (feetech-servo-sdk 1.0.0, what
// LeRobot 0.4.4 drives) and the register table against LeRobot's tables.py (gen_golden.py).
#include <gtest/gtest.h>

#include "robot/feetech_protocol.h"
#include "test_util.h"

namespace embody::robot {
namespace {
using namespace feetech;
using testing::Case;
using testing::FromHex;

TEST(FeetechProtocol, PingMatchesSdk) {
  const auto tx = FromHex(Case("ping_id1_sdk")["tx"]);
  // The SDK's ping() is PING then READ Model_Number.
  auto ping = *PingPacket(1);
  auto read = *ReadPacket(1, reg::kModelNumber.address, 2);
  std::vector<uint8_t> both = ping;
  both.insert(both.end(), read.begin(), read.end());
  EXPECT_EQ(both, tx);
  EXPECT_EQ(ping, (std::vector<uint8_t>{0xFF, 0xFF, 0x01, 0x02, 0x01, 0xFB}));
}

TEST(FeetechProtocol, ReadWriteMatchSdk) {
  EXPECT_EQ(*ReadPacket(3, 56, 2), FromHex(Case("read_present_position_id3")["tx"]));
  EXPECT_EQ(*ReadPacket(2, 56, 2), FromHex(Case("read_with_error_bits_id2")["tx"]));
  const uint8_t one[1] = {1};
  EXPECT_EQ(*WritePacket(4, reg::kTorqueEnable.address, one), FromHex(Case("write_torque_enable_id4")["tx"]));
  EXPECT_EQ(*WritePacket(6, reg::kGoalPosition.address, ToLittleEndian(2500, 2)),
            FromHex(Case("write_goal_position_id6")["tx"]));
  const auto& ho = Case("write_homing_offset_m300_id1");
  const uint32_t enc = *EncodeRegisterValue(reg::kHomingOffset, -300);
  EXPECT_EQ(enc, ho["encoded"].get<uint32_t>());
  EXPECT_EQ(*WritePacket(1, reg::kHomingOffset.address, ToLittleEndian(enc, 2)), FromHex(ho["tx"]));
}

TEST(FeetechProtocol, SyncReadWriteMatchSdk) {
  const auto& sr = Case("sync_read_present_position_1to6");
  std::vector<uint8_t> ids = sr["ids"].get<std::vector<uint8_t>>();
  EXPECT_EQ(*SyncReadPacket(56, 2, ids), FromHex(sr["tx"]));
  for (const char* name : {"sync_write_goal_position_1to6", "sync_write_torque_off_1to3"}) {
    const auto& sw = Case(name);
    const auto sids = sw["ids"].get<std::vector<uint8_t>>();
    const auto vals = sw["values"].get<std::vector<int>>();
    const Register& r = std::string(name).find("goal") != std::string::npos ? reg::kGoalPosition : reg::kTorqueEnable;
    std::vector<uint8_t> data;
    for (int v : vals) {
      auto b = ToLittleEndian(*EncodeRegisterValue(r, v), r.size);
      data.insert(data.end(), b.begin(), b.end());
    }
    EXPECT_EQ(*SyncWritePacket(r.address, r.size, sids, data), FromHex(sw["tx"])) << name;
  }
}

TEST(FeetechProtocol, ParsesStatusPacketsTheSdkAccepts) {
  const auto& c = Case("read_present_position_id3");
  auto p = ParseStatus(FromHex(c["rx"]));
  ASSERT_EQ(p.state, ParseState::kFrame);
  EXPECT_EQ(p.frame.id, 3);
  EXPECT_EQ(p.frame.code, 0);
  EXPECT_EQ(static_cast<int>(FromLittleEndian(p.frame.params)), c["value"].get<int>());

  const auto& e = Case("read_with_error_bits_id2");
  p = ParseStatus(FromHex(e["rx"]));
  ASSERT_EQ(p.state, ParseState::kFrame);
  EXPECT_EQ(p.frame.code, e["error"].get<int>());
  EXPECT_EQ(DescribeErrorBits(p.frame.code), "input voltage error, overload error");

  const auto& b = Case("read_bad_checksum_id3");  // the SDK says COMM_RX_CORRUPT
  p = ParseStatus(FromHex(b["rx"]));
  EXPECT_EQ(p.state, ParseState::kBadChecksum);
  EXPECT_EQ(p.consumed, 8u);

  // Six concatenated sync-read replies, one after the other.
  const auto& sr = Case("sync_read_present_position_1to6");
  auto rx = FromHex(sr["rx"]);
  std::vector<int> got;
  std::span<const uint8_t> rest(rx);
  while (!rest.empty()) {
    auto q = ParseStatus(rest);
    ASSERT_EQ(q.state, ParseState::kFrame);
    got.push_back(static_cast<int>(FromLittleEndian(q.frame.params)));
    rest = rest.subspan(q.consumed);
  }
  EXPECT_EQ(got, sr["values"].get<std::vector<int>>());
}

TEST(FeetechProtocol, ResynchronisesLikeTheSdk) {
  auto good = StatusPacketBytes(5, 0, std::vector<uint8_t>{0x34, 0x12});
  std::vector<uint8_t> buf = {0x00, 0x13, 0xFF, 0xFF, 0xFE, 0x02, 0x00};  // junk, a header with id 0xFE
  buf.insert(buf.end(), good.begin(), good.end());
  auto p = ParseStatus(buf);
  ASSERT_EQ(p.state, ParseState::kFrame);
  EXPECT_EQ(p.frame.id, 5);
  EXPECT_EQ(FromLittleEndian(p.frame.params), 0x1234u);
  EXPECT_EQ(p.consumed, buf.size());
  // Incomplete: wait for more, dropping only junk in front.
  std::vector<uint8_t> part = {0x42, 0xFF, 0xFF, 0x05, 0x04};
  p = ParseStatus(part);
  EXPECT_EQ(p.state, ParseState::kNeedMore);
  EXPECT_EQ(p.consumed, 1u);
  // Error byte > 0x7F is not a status packet.
  std::vector<uint8_t> hi = {0xFF, 0xFF, 0x01, 0x02, 0x80, 0x7C};
  EXPECT_EQ(ParseStatus(hi).state, ParseState::kNeedMore);
}

TEST(FeetechProtocol, SignMagnitudeMatchesLeRobot) {
  for (const auto& s : testing::Golden()["sign_magnitude"]) {
    const int v = s["value"], bit = s["bit"];
    const uint32_t e = s["encoded"];
    EXPECT_EQ(*EncodeSignMagnitude(v, bit), e) << v << " bit " << bit;
    EXPECT_EQ(DecodeSignMagnitude(e, bit), v);
  }
  EXPECT_FALSE(EncodeSignMagnitude(2048, 11).ok());
  EXPECT_FALSE(EncodeRegisterValue(reg::kTorqueEnable, 256).ok());
  EXPECT_FALSE(EncodeRegisterValue(reg::kMinPositionLimit, -1).ok());
}

TEST(FeetechProtocol, RegisterTableMatchesLeRobotTables) {
  const auto& regs = testing::Golden()["registers"];
  for (const Register& r : Sts3215Registers()) {
    ASSERT_TRUE(regs.contains(std::string(r.name))) << r.name;
    const auto& e = regs[std::string(r.name)];
    EXPECT_EQ(r.address, e[0].get<int>()) << r.name;
    EXPECT_EQ(r.size, e[1].get<int>()) << r.name;
    EXPECT_EQ(r.sign_bit, e[2].get<int>()) << r.name;
  }
  EXPECT_EQ(FindRegister("Homing_Offset")->sign_bit, 11);
  EXPECT_EQ(FindRegister("nope"), nullptr);
}

TEST(FeetechProtocol, RejectsBadPackets) {
  EXPECT_FALSE(ReadPacket(0xFE, 56, 2).ok());
  EXPECT_FALSE(PingPacket(0xFD).ok());
  std::vector<uint8_t> ids(200, 1);
  std::vector<uint8_t> data(400, 0);
  EXPECT_EQ(SyncWritePacket(42, 2, ids, data).status().code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(SyncWritePacket(42, 2, std::vector<uint8_t>{1, 2}, std::vector<uint8_t>{0, 0, 0}).ok());
  EXPECT_EQ(DescribeErrorBits(0x00), "no error");
  EXPECT_EQ(DescribeErrorBits(0x50), "unknown error bits 0x50");
  EXPECT_EQ(DescribeErrorBits(0x0E), "angle sensor error, overheat error, over-current error");
}

}  // namespace
}  // namespace embody::robot
