// A Feetech STS bus over a ByteStream: ping, register read/write, sync read, sync write, with
// bounded retries of communication failures and an error that names the port and servo id.
//
// Like LeRobot's FeetechMotorsBus: timeouts and corrupt replies are retried (num_retries extra
// tries), error bits in a status packet are not retried (the servo answered; retrying does not
// clear an overload) and fail the call unless error_bits_fatal is false.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "robot/feetech_protocol.h"
#include "robot/serial_port.h"

namespace embody::robot {

struct FeetechBusOptions {
  int num_retries = 2;  // extra tries after a timeout or a corrupt reply (LeRobot num_read_retries)
  // Reply deadline = base + expected reply bytes * byte_time (LeRobot's patched SDK timeout:
  // t_byte * len + 3 t_byte + 50 ms, t_byte = 10 bits / baud).
  std::chrono::microseconds base_timeout{50'000};
  std::chrono::microseconds byte_time{10};
  bool error_bits_fatal = true;
};

// Non-fatal faults seen so far (a retried timeout counts here even if the retry succeeded).
struct FeetechBusCounters {
  uint64_t transactions = 0;
  uint64_t timeouts = 0;         // a servo did not answer in time
  uint64_t checksum_errors = 0;  // a reply with a wrong checksum
  uint64_t retries = 0;          // tries repeated after a timeout or a corrupt reply
  uint64_t servo_errors = 0;     // status packets with error bits set
  uint64_t stray_packets = 0;    // replies from an unexpected id, or bytes that were not a packet
  uint8_t last_error_bits = 0;
};

class FeetechBus {
 public:
  explicit FeetechBus(ByteStream& stream, FeetechBusOptions options = {});

  // PING then READ Model_Number, as the SDK's ping(); returns the model number (STS3215: 777).
  Result<uint16_t> Ping(uint8_t id);

  Result<uint32_t> ReadRaw(uint8_t id, uint8_t address, uint8_t length);
  Status WriteRaw(uint8_t id, uint8_t address, std::span<const uint8_t> data);

  // Register value with sign-magnitude decoded / encoded. Writes wait for the acknowledgement.
  Result<int> Read(uint8_t id, const feetech::Register& reg);
  Status Write(uint8_t id, const feetech::Register& reg, int value);

  // SYNC READ of one register from several servos; values in the order of `ids`. A failure names
  // every servo that did not answer correctly, and why.
  Result<std::vector<int>> SyncRead(const feetech::Register& reg, std::span<const uint8_t> ids);
  // SYNC WRITE (broadcast, no reply).
  Status SyncWrite(const feetech::Register& reg, std::span<const uint8_t> ids, std::span<const int> values);

  Result<std::vector<int>> SyncReadPositions(std::span<const uint8_t> ids) {
    return SyncRead(feetech::reg::kPresentPosition, ids);
  }
  Status SyncWriteGoalPositions(std::span<const uint8_t> ids, std::span<const int> positions) {
    return SyncWrite(feetech::reg::kGoalPosition, ids, positions);
  }

  const FeetechBusCounters& counters() const { return counters_; }
  const std::string& port_name() const { return stream_.name(); }

 private:
  enum class Outcome { kOk, kTimeout, kCorrupt, kIo };
  struct Reply {
    Outcome outcome = Outcome::kTimeout;
    feetech::Frame frame;
    Status io;
  };

  // Sends `packet`, then collects status packets from `ids` (in any order) until all answered or
  // the deadline passes. Replies from other ids are dropped.
  std::map<uint8_t, Reply> Transact(std::span<const uint8_t> packet, std::span<const uint8_t> ids,
                                    size_t reply_params);
  Result<feetech::Frame> TransactOne(std::span<const uint8_t> packet, uint8_t id, size_t reply_params,
                                     const std::string& what);
  Status CheckErrorBits(uint8_t id, uint8_t error, const std::string& what);
  std::string Where(uint8_t id) const;

  ByteStream& stream_;
  FeetechBusOptions options_;
  FeetechBusCounters counters_;
  std::vector<uint8_t> rx_;
};

}  // namespace embody::robot
