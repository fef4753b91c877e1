#include "robot/feetech_protocol.h"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace embody::robot::feetech {
namespace {

constexpr std::array<Register, 33> kRegisters = {
    reg::kFirmwareMajorVersion, reg::kFirmwareMinorVersion, reg::kModelNumber, reg::kId,
    reg::kBaudRate, reg::kReturnDelayTime, reg::kMinPositionLimit, reg::kMaxPositionLimit,
    reg::kMaxTorqueLimit, reg::kPhase, reg::kPCoefficient, reg::kDCoefficient,
    reg::kICoefficient, reg::kProtectionCurrent, reg::kHomingOffset, reg::kOperatingMode,
    reg::kOverloadTorque, reg::kTorqueEnable, reg::kAcceleration, reg::kGoalPosition,
    reg::kGoalTime, reg::kGoalVelocity, reg::kTorqueLimit, reg::kLock,
    reg::kPresentPosition, reg::kPresentVelocity, reg::kPresentLoad, reg::kPresentVoltage,
    reg::kPresentTemperature, reg::kStatus, reg::kMoving, reg::kPresentCurrent,
    reg::kMaximumAcceleration,
};

ParseResult Parse(std::span<const uint8_t> buf, bool status) {
  ParseResult out;
  size_t i = 0;
  while (true) {
    // Find the header.
    while (i + 1 < buf.size() && !(buf[i] == 0xFF && buf[i + 1] == 0xFF)) ++i;
    if (i + 1 >= buf.size()) {
      // Keep a trailing 0xFF: it may start a header.
      out.consumed = (i < buf.size() && buf[i] == 0xFF) ? i : buf.size();
      return out;
    }
    if (buf.size() - i < 5) {  // header, id, len, code
      out.consumed = i;
      return out;
    }
    const uint8_t id = buf[i + 2];
    const uint8_t len = buf[i + 3];
    const uint8_t code = buf[i + 4];
    const bool bad_id = status ? id > 0xFD : (id > kMaxId && id != kBroadcastId);
    if (bad_id || len > kMaxPacketLength || len < 2 || (status && code > 0x7F)) {
      ++i;  // not a packet start: drop one byte and look again
      continue;
    }
    const size_t total = static_cast<size_t>(len) + 4;
    if (buf.size() - i < total) {
      out.consumed = i;
      return out;
    }
    const auto body = buf.subspan(i + 2, total - 3);
    const uint8_t sum = buf[i + total - 1];
    out.consumed = i + total;
    if (Checksum(body) != sum) {
      out.state = ParseState::kBadChecksum;
      out.frame.id = id;
      return out;
    }
    out.state = ParseState::kFrame;
    out.frame.id = id;
    out.frame.code = code;
    out.frame.params.assign(buf.begin() + static_cast<std::ptrdiff_t>(i + 5),
                            buf.begin() + static_cast<std::ptrdiff_t>(i + total - 1));
    return out;
  }
}

}  // namespace

std::string DescribeErrorBits(uint8_t error) {
  static constexpr std::array<std::pair<uint8_t, const char*>, 5> kNames = {{
      {kErrVoltage, "input voltage error"},
      {kErrAngle, "angle sensor error"},
      {kErrOverheat, "overheat error"},
      {kErrOverCurrent, "over-current error"},
      {kErrOverload, "overload error"},
  }};
  std::string out;
  uint8_t rest = error;
  for (const auto& [bit, text] : kNames) {
    if (error & bit) {
      if (!out.empty()) out += ", ";
      out += text;
      rest = static_cast<uint8_t>(rest & ~bit);
    }
  }
  if (rest != 0) {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "unknown error bits 0x%02X", rest);
    if (!out.empty()) out += ", ";
    out += hex;
  }
  return out.empty() ? "no error" : out;
}

std::span<const Register> Sts3215Registers() { return kRegisters; }

const Register* FindRegister(std::string_view name) {
  for (const Register& r : kRegisters) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

Result<uint32_t> EncodeSignMagnitude(int value, int sign_bit) {
  if (sign_bit < 1 || sign_bit > 30) return InvalidArgument("sign bit " + std::to_string(sign_bit) + " out of range");
  const uint32_t max_magnitude = (1u << sign_bit) - 1;
  const uint32_t magnitude = static_cast<uint32_t>(std::abs(static_cast<long long>(value)));
  if (magnitude > max_magnitude) {
    return OutOfRange("magnitude " + std::to_string(magnitude) + " exceeds " + std::to_string(max_magnitude) +
                      " (max for sign bit " + std::to_string(sign_bit) + ")");
  }
  return ((value < 0 ? 1u : 0u) << sign_bit) | magnitude;
}

int DecodeSignMagnitude(uint32_t raw, int sign_bit) {
  const uint32_t magnitude = raw & ((1u << sign_bit) - 1);
  return ((raw >> sign_bit) & 1u) ? -static_cast<int>(magnitude) : static_cast<int>(magnitude);
}

Result<uint32_t> EncodeRegisterValue(const Register& r, int value) {
  uint32_t raw = 0;
  if (r.sign_bit >= 0) {
    auto enc = EncodeSignMagnitude(value, r.sign_bit);
    if (!enc.ok()) return enc.status().WithContext(std::string(r.name));
    raw = *enc;
  } else {
    if (value < 0) return OutOfRange(std::string(r.name) + ": negative value " + std::to_string(value));
    raw = static_cast<uint32_t>(value);
  }
  const uint32_t limit = r.size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * r.size)) - 1);
  if (raw > limit) {
    return OutOfRange(std::string(r.name) + ": value " + std::to_string(value) + " does not fit in " +
                      std::to_string(r.size) + " byte(s)");
  }
  return raw;
}

int DecodeRegisterValue(const Register& r, uint32_t raw) {
  return r.sign_bit >= 0 ? DecodeSignMagnitude(raw, r.sign_bit) : static_cast<int>(raw);
}

std::vector<uint8_t> ToLittleEndian(uint32_t value, uint8_t size) {
  std::vector<uint8_t> out(size);
  for (uint8_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
  return out;
}

uint32_t FromLittleEndian(std::span<const uint8_t> bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < bytes.size() && i < 4; ++i) v |= static_cast<uint32_t>(bytes[i]) << (8 * i);
  return v;
}

uint8_t Checksum(std::span<const uint8_t> id_to_last_param) {
  unsigned sum = 0;
  for (uint8_t b : id_to_last_param) sum += b;
  return static_cast<uint8_t>(~sum & 0xFF);
}

Result<std::vector<uint8_t>> EncodeInstruction(uint8_t id, Instruction instr, std::span<const uint8_t> params) {
  if (id > kMaxId && id != kBroadcastId) return InvalidArgument("servo id " + std::to_string(id) + " > 252");
  const size_t total = params.size() + 6;
  if (total > kMaxPacketLength) {
    return OutOfRange("instruction packet of " + std::to_string(total) + " bytes exceeds " +
                      std::to_string(kMaxPacketLength));
  }
  std::vector<uint8_t> p;
  p.reserve(total);
  p.push_back(0xFF);
  p.push_back(0xFF);
  p.push_back(id);
  p.push_back(static_cast<uint8_t>(params.size() + 2));
  p.push_back(static_cast<uint8_t>(instr));
  for (uint8_t b : params) p.push_back(b);
  p.push_back(Checksum(std::span<const uint8_t>(p).subspan(2)));
  return p;
}

Result<std::vector<uint8_t>> PingPacket(uint8_t id) { return EncodeInstruction(id, Instruction::kPing, {}); }

Result<std::vector<uint8_t>> ReadPacket(uint8_t id, uint8_t address, uint8_t length) {
  if (id > kMaxId) return InvalidArgument("read needs one servo id <= 252, got " + std::to_string(id));
  const uint8_t params[2] = {address, length};
  return EncodeInstruction(id, Instruction::kRead, params);
}

Result<std::vector<uint8_t>> WritePacket(uint8_t id, uint8_t address, std::span<const uint8_t> data) {
  std::vector<uint8_t> params;
  params.push_back(address);
  params.insert(params.end(), data.begin(), data.end());
  return EncodeInstruction(id, Instruction::kWrite, params);
}

Result<std::vector<uint8_t>> SyncReadPacket(uint8_t address, uint8_t length, std::span<const uint8_t> ids) {
  if (ids.empty()) return InvalidArgument("sync read with no servo ids");
  std::vector<uint8_t> params = {address, length};
  params.insert(params.end(), ids.begin(), ids.end());
  return EncodeInstruction(kBroadcastId, Instruction::kSyncRead, params);
}

Result<std::vector<uint8_t>> SyncWritePacket(uint8_t address, uint8_t length, std::span<const uint8_t> ids,
                                             std::span<const uint8_t> data) {
  if (ids.empty()) return InvalidArgument("sync write with no servo ids");
  if (data.size() != ids.size() * length) {
    return InvalidArgument("sync write: " + std::to_string(data.size()) + " data bytes for " +
                           std::to_string(ids.size()) + " servos of " + std::to_string(length) + " bytes");
  }
  std::vector<uint8_t> params = {address, length};
  for (size_t i = 0; i < ids.size(); ++i) {
    params.push_back(ids[i]);
    params.insert(params.end(), data.begin() + static_cast<std::ptrdiff_t>(i * length),
                  data.begin() + static_cast<std::ptrdiff_t>((i + 1) * length));
  }
  return EncodeInstruction(kBroadcastId, Instruction::kSyncWrite, params);
}

std::vector<uint8_t> StatusPacketBytes(uint8_t id, uint8_t error, std::span<const uint8_t> params) {
  std::vector<uint8_t> p;
  p.reserve(params.size() + 6);
  for (uint8_t b : {uint8_t{0xFF}, uint8_t{0xFF}, id, static_cast<uint8_t>(params.size() + 2), error}) p.push_back(b);
  for (uint8_t b : params) p.push_back(b);  // (not insert: GCC 12 -Warray-bounds false positive)
  p.push_back(Checksum(std::span<const uint8_t>(p).subspan(2)));
  return p;
}

ParseResult ParseStatus(std::span<const uint8_t> buf) { return Parse(buf, /*status=*/true); }
ParseResult ParseInstruction(std::span<const uint8_t> buf) { return Parse(buf, /*status=*/false); }

}  // namespace embody::robot::feetech
