// Feetech SCS/STS "protocol 0" packets and the STS3215 register table, as LeRobot 0.4.4 uses them
// (lerobot/motors/feetech/tables.py; packets as built by scservo_sdk / feetech-servo-sdk 1.0.0).
//
//   instruction: 0xFF 0xFF id len instr param... checksum     len = #params + 2
//   status:      0xFF 0xFF id len error param... checksum     len = #params + 2
//   checksum   = ~(id + len + instr_or_error + sum(params)) & 0xFF
//
// Multi-byte registers are little-endian. Some registers hold sign-magnitude values (sign bit 11
// for Homing_Offset, 15 for positions/velocities, 10 for Present_Load).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace embody::robot::feetech {

inline constexpr uint8_t kBroadcastId = 0xFE;
inline constexpr uint8_t kMaxId = 0xFC;
inline constexpr size_t kMaxPacketLength = 250;  // TXPACKET_MAX_LEN / RXPACKET_MAX_LEN in the SDK
inline constexpr uint16_t kSts3215ModelNumber = 777;
inline constexpr int kSts3215Resolution = 4096;

enum class Instruction : uint8_t {
  kPing = 0x01,
  kRead = 0x02,
  kWrite = 0x03,
  kRegWrite = 0x04,
  kAction = 0x05,
  kSyncRead = 0x82,
  kSyncWrite = 0x83,
};

// Status error byte bits (scservo_sdk ERRBIT_*).
inline constexpr uint8_t kErrVoltage = 0x01;
inline constexpr uint8_t kErrAngle = 0x02;
inline constexpr uint8_t kErrOverheat = 0x04;
inline constexpr uint8_t kErrOverCurrent = 0x08;  // "OverEle" in the SDK
inline constexpr uint8_t kErrOverload = 0x20;

// "input voltage error, overload error"; bits the SDK does not name are listed in hex.
std::string DescribeErrorBits(uint8_t error);

struct Register {
  std::string_view name;  // LeRobot's name (tables.py)
  uint8_t address;
  uint8_t size;           // bytes: 1 or 2
  int sign_bit;           // sign-magnitude bit, or -1 for plain unsigned
};

// STS/SMS series (STS3215) registers, addresses and sizes from tables.py
// STS_SMS_SERIES_CONTROL_TABLE, sign bits from STS_SMS_SERIES_ENCODINGS_TABLE.
namespace reg {
inline constexpr Register kFirmwareMajorVersion{"Firmware_Major_Version", 0, 1, -1};
inline constexpr Register kFirmwareMinorVersion{"Firmware_Minor_Version", 1, 1, -1};
inline constexpr Register kModelNumber{"Model_Number", 3, 2, -1};
inline constexpr Register kId{"ID", 5, 1, -1};
inline constexpr Register kBaudRate{"Baud_Rate", 6, 1, -1};
inline constexpr Register kReturnDelayTime{"Return_Delay_Time", 7, 1, -1};
inline constexpr Register kMinPositionLimit{"Min_Position_Limit", 9, 2, -1};
inline constexpr Register kMaxPositionLimit{"Max_Position_Limit", 11, 2, -1};
inline constexpr Register kMaxTorqueLimit{"Max_Torque_Limit", 16, 2, -1};
inline constexpr Register kPhase{"Phase", 18, 1, -1};
inline constexpr Register kPCoefficient{"P_Coefficient", 21, 1, -1};
inline constexpr Register kDCoefficient{"D_Coefficient", 22, 1, -1};
inline constexpr Register kICoefficient{"I_Coefficient", 23, 1, -1};
inline constexpr Register kProtectionCurrent{"Protection_Current", 28, 2, -1};
inline constexpr Register kHomingOffset{"Homing_Offset", 31, 2, 11};
inline constexpr Register kOperatingMode{"Operating_Mode", 33, 1, -1};
inline constexpr Register kOverloadTorque{"Overload_Torque", 36, 1, -1};
inline constexpr Register kTorqueEnable{"Torque_Enable", 40, 1, -1};
inline constexpr Register kAcceleration{"Acceleration", 41, 1, -1};
inline constexpr Register kGoalPosition{"Goal_Position", 42, 2, 15};
inline constexpr Register kGoalTime{"Goal_Time", 44, 2, -1};
inline constexpr Register kGoalVelocity{"Goal_Velocity", 46, 2, 15};
inline constexpr Register kTorqueLimit{"Torque_Limit", 48, 2, -1};
inline constexpr Register kLock{"Lock", 55, 1, -1};
inline constexpr Register kPresentPosition{"Present_Position", 56, 2, 15};
inline constexpr Register kPresentVelocity{"Present_Velocity", 58, 2, 15};
inline constexpr Register kPresentLoad{"Present_Load", 60, 2, 10};
inline constexpr Register kPresentVoltage{"Present_Voltage", 62, 1, -1};
inline constexpr Register kPresentTemperature{"Present_Temperature", 63, 1, -1};
inline constexpr Register kStatus{"Status", 65, 1, -1};
inline constexpr Register kMoving{"Moving", 66, 1, -1};
inline constexpr Register kPresentCurrent{"Present_Current", 69, 2, -1};
inline constexpr Register kMaximumAcceleration{"Maximum_Acceleration", 85, 1, -1};
}  // namespace reg

std::span<const Register> Sts3215Registers();
const Register* FindRegister(std::string_view name);

// Sign-magnitude as lerobot.motors.encoding_utils: |value| must fit in sign_bit bits.
Result<uint32_t> EncodeSignMagnitude(int value, int sign_bit);
int DecodeSignMagnitude(uint32_t raw, int sign_bit);
// Register value <-> raw register bits (sign-magnitude where the register has a sign bit; range
// checked against the register size).
Result<uint32_t> EncodeRegisterValue(const Register& r, int value);
int DecodeRegisterValue(const Register& r, uint32_t raw);
// Little-endian bytes of a `size`-byte register value, and back.
std::vector<uint8_t> ToLittleEndian(uint32_t value, uint8_t size);
uint32_t FromLittleEndian(std::span<const uint8_t> bytes);

// Checksum over id, length, instruction/error and parameters (the bytes after the 0xFF 0xFF
// header, without the checksum byte itself).
uint8_t Checksum(std::span<const uint8_t> id_to_last_param);

Result<std::vector<uint8_t>> EncodeInstruction(uint8_t id, Instruction instr, std::span<const uint8_t> params);
Result<std::vector<uint8_t>> PingPacket(uint8_t id);
Result<std::vector<uint8_t>> ReadPacket(uint8_t id, uint8_t address, uint8_t length);
Result<std::vector<uint8_t>> WritePacket(uint8_t id, uint8_t address, std::span<const uint8_t> data);
Result<std::vector<uint8_t>> SyncReadPacket(uint8_t address, uint8_t length, std::span<const uint8_t> ids);
// `data` holds ids.size() * length bytes, servo after servo.
Result<std::vector<uint8_t>> SyncWritePacket(uint8_t address, uint8_t length, std::span<const uint8_t> ids,
                                             std::span<const uint8_t> data);
// What a servo sends back (used by the emulator in tests).
std::vector<uint8_t> StatusPacketBytes(uint8_t id, uint8_t error, std::span<const uint8_t> params);

// One parsed frame. For a status packet `code` is the error byte; for an instruction packet the
// instruction.
struct Frame {
  uint8_t id = 0;
  uint8_t code = 0;
  std::vector<uint8_t> params;
};

enum class ParseState {
  kNeedMore,     // a valid start so far; wait for more bytes (drop `consumed` junk first)
  kFrame,        // `frame` holds a good packet of `consumed` bytes
  kBadChecksum,  // a complete packet of `consumed` bytes whose checksum is wrong
};

struct ParseResult {
  ParseState state = ParseState::kNeedMore;
  size_t consumed = 0;  // bytes to drop from the front of the buffer
  Frame frame;
};

// Finds the first packet in `buf`, resynchronising like the SDK's rxPacket: junk before a 0xFF 0xFF
// header is skipped; a header with id > 0xFD, length > 250 or length < 2 (or, for status
// packets, error > 0x7F) is treated as junk one byte at a time.
ParseResult ParseStatus(std::span<const uint8_t> buf);
ParseResult ParseInstruction(std::span<const uint8_t> buf);

}  // namespace embody::robot::feetech
