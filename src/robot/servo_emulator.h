// An emulated Feetech STS3215 bus: servos with a register table that answer real protocol-0
// packets, a motor model that moves the shaft toward the goal, and injectable faults.
//
// Used by the tests (in memory through LoopbackStream, or through a real pseudo-terminal) and by
// `embody robot-emulator` / `embody robot-bench`, which serve it on a pty so the real SerialPort,
// termios and timing code run unchanged.
//
// Register semantics follow the STS3215 as LeRobot drives it:
//   * Present_Position = Actual - Homing_Offset (mod 4096); Goal_Position is in the same frame,
//     clamped to [Min_Position_Limit, Max_Position_Limit] when those span a range.
//   * Torque_Enable 1 drives the shaft; 0 lets "the hand" (SetActual / a motion script) move it.
//   * A blocked shaft (fault) builds load; after Protection_Time the servo sets the overload bit
//     and drops torque, as the real firmware does.
// Not modelled: EPROM write protection (Lock), Goal_Time/Goal_Velocity profiles, temperature.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "robot/serial_port.h"

namespace embody::robot {

struct EmulatedServo {
  std::array<uint8_t, 256> regs{};
  double actual = 2048;  // shaft angle in ticks (0..4096, wraps)
  double velocity = 0;   // ticks/s
  double overload_s = 0;  // time spent pushing against a blocked shaft
  // Faults.
  bool silent = false;       // never answers (unplugged servo / wrong id)
  int drop_replies = 0;      // the next N replies are not sent (timeouts that recover)
  int corrupt_replies = 0;   // the next N replies carry a wrong checksum
  bool always_corrupt = false;
  uint8_t error_bits = 0;    // status error byte on every reply (e.g. kErrVoltage, kErrOverload)
  bool blocked = false;      // the shaft cannot move (obstacle): load rises, then overload
};

struct MotorModel {
  double max_speed = 3000;  // ticks/s (STS3215 at 12 V: about 0.22 s per 60 degrees)
  double gain = 25;         // 1/s: velocity = gain * error, capped at max_speed
  double protection_s = 0.5;  // blocked this long -> overload bit, torque off
};

class ServoEmulator {
 public:
  explicit ServoEmulator(MotorModel model = {}) : model_(model) {}

  // A servo with STS3215 defaults (model 777, firmware 3.10, limits 0..4095, P 32, 12.0 V) whose
  // shaft, present and goal positions are all `position`.
  void AddServo(uint8_t id, int position = 2048);
  bool HasServo(uint8_t id) const { return servos_.count(id) != 0; }
  // REQUIRES: HasServo(id).
  EmulatedServo& servo(uint8_t id) { return servos_.at(id); }
  std::vector<uint8_t> ids() const;
  int Register16(uint8_t id, uint8_t addr) const;
  // Register value with sign-magnitude decoded, by LeRobot's register name (Present_Position...).
  int Get(uint8_t id, std::string_view reg) const;

  // Moves the shaft by hand (torque off, or against the motor): Present_Position becomes `present`.
  void SetPresent(uint8_t id, int present);
  // Moves the shaft itself to `ticks` (the hand, in the servo's raw frame, homing offset ignored).
  void SetShaft(uint8_t id, double ticks);
  // Advances the motor model by dt seconds (torque-enabled servos move toward their goal).
  void Advance(double dt_s);
  // Legacy step for tests: moves every torque-enabled servo by at most `max_step` ticks.
  void Step(int max_step = 4096);

  // Consumes instruction bytes; returns the bytes the servos send back (in id order for SYNC
  // READ, as on the wire).
  std::vector<uint8_t> Handle(std::span<const uint8_t> bytes);
  uint64_t instructions() const { return instructions_; }
  uint64_t corrupt_instructions() const { return corrupt_instructions_; }

 private:
  void Reply(uint8_t id, std::span<const uint8_t> params, std::vector<uint8_t>& out);
  void UpdatePresent(EmulatedServo& s);
  void OnWrite(EmulatedServo& s, int address, int length);

  MotorModel model_;
  std::map<uint8_t, EmulatedServo> servos_;
  std::vector<uint8_t> pending_;
  uint64_t instructions_ = 0;
  uint64_t corrupt_instructions_ = 0;
};

// In-memory ByteStream: each Write is handed to the emulator, replies are queued for Read. A Read
// with nothing queued returns 0 at once (nothing can arrive later).
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

struct PtyBusOptions {
  // The bus rate the servos listen at. When the host opens the port at another rate the servos
  // see only noise and never answer, like real hardware with a wrong baud rate.
  int baud = 1'000'000;
  // Delay replies by the time the bytes would take on the wire (10 bits per byte at `baud`) plus
  // each servo's Return_Delay_Time, so a pty bus is no faster than the real one.
  bool wire_time = true;
  MotorModel motor;
  // Called about every millisecond with the emulator locked and the time since start: scripted
  // hand motion (a leader arm being moved), faults that start mid-run.
  std::function<void(double t_s, ServoEmulator&)> on_tick;
};

// A pseudo-terminal whose master side is served by a thread running the emulator; open the
// slave with SerialPort::Open(slave_path()). Thread-safe: use With() to touch the emulator.
class PtyServoBus {
 public:
  explicit PtyServoBus(PtyBusOptions options = {});
  ~PtyServoBus();
  PtyServoBus(const PtyServoBus&) = delete;
  PtyServoBus& operator=(const PtyServoBus&) = delete;

  bool ok() const { return master_ >= 0; }
  const std::string& error() const { return error_; }
  const std::string& slave_path() const { return slave_path_; }
  // Runs `f` on the emulator while the serving thread is not using it.
  template <typename F> void With(F&& f) { std::lock_guard<std::mutex> l(mu_); f(emu_); }
  // Instructions ignored because the host's baud rate did not match.
  uint64_t wrong_baud_bytes() const { return wrong_baud_bytes_.load(); }

 private:
  void Serve();
  PtyBusOptions options_;
  int master_ = -1;
  int slave_keepalive_ = -1;
  std::string slave_path_, error_;
  ServoEmulator emu_;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> wrong_baud_bytes_{0};
  std::thread thread_;
};

}  // namespace embody::robot
