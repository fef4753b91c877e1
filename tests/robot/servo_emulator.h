// An emulated STS3215 bus for tests: servos with a register table that answer real protocol
// packets, a simple motor model, and injected faults. Reached through an in-memory ByteStream
// (LoopbackStream) or a pseudo-terminal served by a thread (PtyServoBus).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "robot/serial_port.h"

namespace embody::robot::testing {

struct EmulatedServo {
  std::array<uint8_t, 256> regs{};
  // Faults.
  bool silent = false;       // never answers (unplugged servo / wrong id)
  int drop_replies = 0;      // the next N replies are not sent (timeouts that recover)
  int corrupt_replies = 0;   // the next N replies carry a wrong checksum
  bool always_corrupt = false;
  uint8_t error_bits = 0;    // status error byte on every reply
};

class ServoEmulator {
 public:
  // Servos with STS3215 defaults (model 777, limits 0..4095, present = goal = `position`).
  void AddServo(uint8_t id, int position = 2048);
  EmulatedServo& servo(uint8_t id) { return servos_.at(id); }
  int Register16(uint8_t id, uint8_t addr) const;
  // Moves every torque-enabled servo toward its goal by at most `max_step` ticks.
  void Step(int max_step = 4096);

  // Consumes instruction bytes; returns the bytes the servos send back.
  std::vector<uint8_t> Handle(std::span<const uint8_t> bytes);
  uint64_t instructions() const { return instructions_; }

 private:
  void Reply(uint8_t id, std::span<const uint8_t> params, std::vector<uint8_t>& out);

  std::map<uint8_t, EmulatedServo> servos_;
  std::vector<uint8_t> pending_;
  uint64_t instructions_ = 0;
};

// In-memory ByteStream: each Write is handed to the emulator (under a lock), replies are queued
// for Read. A Read with nothing queued returns 0 at once (nothing can arrive later).
class LoopbackStream final : public ByteStream {
 public:
  explicit LoopbackStream(ServoEmulator* emu) : emu_(emu) {}  // nullptr: a dead port
  Status Write(std::span<const uint8_t> data) override;
  Result<size_t> Read(std::span<uint8_t> buf, std::chrono::microseconds timeout) override;
  Status DiscardInput() override { rx_.clear(); return Status::Ok(); }
  Status Drain() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }
  std::vector<uint8_t> written;  // everything written, for byte checks
  std::vector<uint8_t> garbage_before_reply;  // injected before the next reply

 private:
  ServoEmulator* emu_;
  std::deque<uint8_t> rx_;
  std::string name_ = "loopback";
};

// A pseudo-terminal whose master side is served by a thread running the emulator; open the
// slave with SerialPort::Open(slave_path()).
class PtyServoBus {
 public:
  PtyServoBus();
  ~PtyServoBus();
  bool ok() const { return master_ >= 0; }
  const std::string& slave_path() const { return slave_path_; }
  // Run `f` on the emulator while the thread is not using it.
  template <typename F> void With(F&& f) { std::lock_guard<std::mutex> l(mu_); f(emu_); }

 private:
  void Serve();
  int master_ = -1;
  int slave_keepalive_ = -1;
  std::string slave_path_;
  ServoEmulator emu_;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace embody::robot::testing
