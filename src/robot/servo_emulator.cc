#include "robot/servo_emulator.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "robot/feetech_protocol.h"

namespace embody::robot {
namespace fb = feetech;

namespace {

int Get16(const EmulatedServo& s, uint8_t a) { return s.regs[a] | (s.regs[a + 1] << 8); }
void Put16(EmulatedServo& s, uint8_t a, int v) {
  s.regs[a] = static_cast<uint8_t>(v & 0xFF);
  s.regs[a + 1] = static_cast<uint8_t>((v >> 8) & 0xFF);
}
int SignMag(int v, int bit) { return v < 0 ? (1 << bit) | (-v) : v; }

speed_t SpeedOf(int baud) {
  switch (baud) {
    case 1000000: return B1000000;
    case 500000: return B500000;
    case 115200: return B115200;
    case 57600: return B57600;
    case 38400: return B38400;
    case 19200: return B19200;
    case 9600: return B9600;
    default: return B0;
  }
}

}  // namespace

void ServoEmulator::AddServo(uint8_t id, int position) {
  EmulatedServo s;
  s.regs[0] = 3;  // firmware 3.10
  s.regs[1] = 10;
  Put16(s, fb::reg::kModelNumber.address, fb::kSts3215ModelNumber);
  s.regs[fb::reg::kId.address] = id;
  s.regs[fb::reg::kReturnDelayTime.address] = 250;  // factory default: 500 us
  Put16(s, fb::reg::kMaxPositionLimit.address, 4095);
  Put16(s, fb::reg::kMaxTorqueLimit.address, 1000);
  s.regs[fb::reg::kPCoefficient.address] = 32;
  s.regs[fb::reg::kDCoefficient.address] = 32;
  Put16(s, fb::reg::kProtectionCurrent.address, 500);
  s.regs[fb::reg::kOverloadTorque.address] = 80;
  s.regs[fb::reg::kAcceleration.address] = 0;
  Put16(s, fb::reg::kTorqueLimit.address, 1000);
  s.regs[fb::reg::kPresentVoltage.address] = 120;
  s.regs[fb::reg::kPresentTemperature.address] = 30;
  s.actual = position;
  Put16(s, fb::reg::kGoalPosition.address, position);
  UpdatePresent(s);
  servos_[id] = s;
}

std::vector<uint8_t> ServoEmulator::ids() const {
  std::vector<uint8_t> out;
  for (const auto& [id, s] : servos_) out.push_back(id);
  return out;
}

int ServoEmulator::Register16(uint8_t id, uint8_t addr) const { return Get16(servos_.at(id), addr); }

int ServoEmulator::Get(uint8_t id, std::string_view name) const {
  const fb::Register* r = fb::FindRegister(name);
  if (!r) return 0;
  const auto& regs = servos_.at(id).regs;
  const uint32_t raw = r->size == 1 ? regs[r->address] : regs[r->address] | (regs[r->address + 1] << 8);
  return fb::DecodeRegisterValue(*r, raw);
}

void ServoEmulator::UpdatePresent(EmulatedServo& s) {
  const int offset = fb::DecodeSignMagnitude(Get16(s, fb::reg::kHomingOffset.address), 11);
  int present = static_cast<int>(std::lround(s.actual)) - offset;
  present = ((present % 4096) + 4096) % 4096;
  Put16(s, fb::reg::kPresentPosition.address, present);
  Put16(s, fb::reg::kPresentVelocity.address, SignMag(static_cast<int>(std::lround(s.velocity)) / 50, 15));
  s.regs[fb::reg::kMoving.address] = std::abs(s.velocity) > 1.0 ? 1 : 0;
}

void ServoEmulator::SetPresent(uint8_t id, int present) {
  EmulatedServo& s = servos_.at(id);
  const int offset = fb::DecodeSignMagnitude(Get16(s, fb::reg::kHomingOffset.address), 11);
  s.actual = present + offset;
  s.velocity = 0;
  UpdatePresent(s);
}

void ServoEmulator::SetShaft(uint8_t id, double ticks) {
  EmulatedServo& s = servos_.at(id);
  s.actual = ticks;
  s.velocity = 0;
  UpdatePresent(s);
}

namespace {
// Where a torque-enabled servo drives its shaft: the goal, clamped to the position limits when
// they span a range, in the shaft's frame (goal + homing offset).
double TargetActual(const EmulatedServo& s) {
  int goal = fb::DecodeSignMagnitude(Get16(s, fb::reg::kGoalPosition.address), 15);
  const int lo = Get16(s, fb::reg::kMinPositionLimit.address), hi = Get16(s, fb::reg::kMaxPositionLimit.address);
  if (hi > lo) goal = std::clamp(goal, lo, hi);
  return goal + fb::DecodeSignMagnitude(Get16(s, fb::reg::kHomingOffset.address), 11);
}
}  // namespace

void ServoEmulator::Advance(double dt_s) {
  for (auto& [id, s] : servos_) {
    int load = 0;
    if (s.regs[fb::reg::kTorqueEnable.address]) {
      const double error = TargetActual(s) - s.actual;
      if (s.blocked) {
        s.velocity = 0;
        if (std::abs(error) > 10) {
          load = 1000;
          s.overload_s += dt_s;
          if (s.overload_s >= model_.protection_s) {  // firmware protection: flag and let go
            s.error_bits |= fb::kErrOverload;
            s.regs[fb::reg::kTorqueEnable.address] = 0;
          }
        }
      } else {
        s.velocity = std::clamp(model_.gain * error, -model_.max_speed, model_.max_speed);
        double step = s.velocity * dt_s;
        if (std::abs(step) > std::abs(error)) step = error;
        s.actual += step;
        load = std::min(1000, static_cast<int>(std::abs(error) * 2));
        if (std::abs(error) < 0.5) s.velocity = 0;
      }
    } else {
      s.velocity = 0;
    }
    Put16(s, fb::reg::kPresentLoad.address, SignMag(std::min(load, 1023), 10));
    UpdatePresent(s);
  }
}

void ServoEmulator::Step(int max_step) {
  for (auto& [id, s] : servos_) {
    if (!s.regs[fb::reg::kTorqueEnable.address]) continue;
    const double error = TargetActual(s) - s.actual;
    s.actual += std::clamp(error, -static_cast<double>(max_step), static_cast<double>(max_step));
    UpdatePresent(s);
  }
}

void ServoEmulator::OnWrite(EmulatedServo& s, int address, int length) {
  auto touches = [&](const fb::Register& r) { return address < r.address + r.size && r.address < address + length; };
  if (touches(fb::reg::kTorqueEnable)) {
    s.overload_s = 0;
    if (s.regs[fb::reg::kTorqueEnable.address]) s.error_bits &= static_cast<uint8_t>(~fb::kErrOverload);
  }
  if (touches(fb::reg::kHomingOffset)) UpdatePresent(s);  // the shaft stays, its reading moves
}

void ServoEmulator::Reply(uint8_t id, std::span<const uint8_t> params, std::vector<uint8_t>& out) {
  auto it = servos_.find(id);
  if (it == servos_.end()) return;
  EmulatedServo& s = it->second;
  if (s.silent) return;
  if (s.drop_replies > 0) { --s.drop_replies; return; }
  auto pkt = fb::StatusPacketBytes(id, s.error_bits, params);
  if (s.always_corrupt || s.corrupt_replies > 0) {
    if (s.corrupt_replies > 0) --s.corrupt_replies;
    pkt.back() ^= 0x5A;
  }
  out.insert(out.end(), pkt.begin(), pkt.end());
}

std::vector<uint8_t> ServoEmulator::Handle(std::span<const uint8_t> bytes) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  std::vector<uint8_t> out;
  for (;;) {
    fb::ParseResult p = fb::ParseInstruction(pending_);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(p.consumed));
    if (p.state == fb::ParseState::kNeedMore) break;
    if (p.state == fb::ParseState::kBadChecksum) {  // servos ignore corrupt instructions
      ++corrupt_instructions_;
      continue;
    }
    ++instructions_;
    const fb::Frame& f = p.frame;
    const auto& prm = f.params;
    auto servo = servos_.find(f.id);
    const bool addressed = servo != servos_.end();
    switch (static_cast<fb::Instruction>(f.code)) {
      case fb::Instruction::kPing:
        if (f.id == fb::kBroadcastId) {
          for (const auto& [id, s] : servos_) Reply(id, {}, out);
        } else {
          Reply(f.id, {}, out);
        }
        break;
      case fb::Instruction::kRead:
        if (prm.size() == 2 && addressed) {
          auto& r = servo->second.regs;
          Reply(f.id, std::span<const uint8_t>(r.data() + prm[0], std::min<size_t>(prm[1], 256 - prm[0])), out);
        }
        break;
      case fb::Instruction::kWrite:
        if (prm.size() >= 2 && addressed && prm[0] + prm.size() - 1 <= 256) {
          auto& r = servo->second.regs;
          std::copy(prm.begin() + 1, prm.end(), r.begin() + prm[0]);
          OnWrite(servo->second, prm[0], static_cast<int>(prm.size()) - 1);
          Reply(f.id, {}, out);
        }
        break;
      case fb::Instruction::kSyncRead:
        if (prm.size() >= 3) {
          for (size_t i = 2; i < prm.size(); ++i) {
            auto it = servos_.find(prm[i]);
            if (it == servos_.end() || prm[0] + prm[1] > 256) continue;
            Reply(prm[i], std::span<const uint8_t>(it->second.regs.data() + prm[0], prm[1]), out);
          }
        }
        break;
      case fb::Instruction::kSyncWrite:
        if (prm.size() >= 2 && prm[0] + prm[1] <= 256) {
          const size_t len = prm[1];
          for (size_t i = 2; i + 1 + len <= prm.size(); i += 1 + len) {
            auto it = servos_.find(prm[i]);
            if (it == servos_.end()) continue;
            std::copy(prm.begin() + static_cast<std::ptrdiff_t>(i + 1),
                      prm.begin() + static_cast<std::ptrdiff_t>(i + 1 + len), it->second.regs.begin() + prm[0]);
            OnWrite(it->second, prm[0], static_cast<int>(len));
          }
        }
        break;
      default:
        break;
    }
  }
  return out;
}

Status LoopbackStream::Write(std::span<const uint8_t> data) {
  written.insert(written.end(), data.begin(), data.end());
  if (!emu_) return Status::Ok();
  auto reply = emu_->Handle(data);
  if (!reply.empty()) {
    rx_.insert(rx_.end(), garbage_before_reply.begin(), garbage_before_reply.end());
    garbage_before_reply.clear();
  }
  rx_.insert(rx_.end(), reply.begin(), reply.end());
  return Status::Ok();
}

Result<size_t> LoopbackStream::Read(std::span<uint8_t> buf, std::chrono::microseconds) {
  size_t n = 0;
  // Hand out at most 5 bytes per call so the bus's incremental parsing is exercised.
  while (n < buf.size() && n < 5 && !rx_.empty()) {
    buf[n++] = rx_.front();
    rx_.pop_front();
  }
  return n;
}

PtyServoBus::PtyServoBus(PtyBusOptions options) : options_(std::move(options)), emu_(options_.motor) {
  int slave = -1;
  char name[256] = {};
  if (openpty(&master_, &slave, name, nullptr, nullptr) != 0) {
    error_ = std::string("openpty: ") + std::strerror(errno);
    master_ = -1;
    return;
  }
  slave_path_ = name;
  slave_keepalive_ = slave;  // keeps the pty alive between opens of the slave path
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  cfsetispeed(&tio, SpeedOf(options_.baud));
  cfsetospeed(&tio, SpeedOf(options_.baud));
  tcsetattr(slave, TCSANOW, &tio);
  thread_ = std::thread([this] { Serve(); });
}

PtyServoBus::~PtyServoBus() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (master_ >= 0) close(master_);
  if (slave_keepalive_ >= 0) close(slave_keepalive_);
}

void PtyServoBus::Serve() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last = start;
  const speed_t want = SpeedOf(options_.baud);
  uint8_t buf[512];
  std::vector<uint8_t> reply;
  while (!stop_) {
    pollfd pfd{master_, POLLIN, 0};
    const int ready = poll(&pfd, 1, 1);
    ssize_t n = 0;
    if (ready > 0 && (pfd.revents & POLLIN)) n = read(master_, buf, sizeof(buf));
    // The pty's termios are shared by both ends: they say what rate the host asked for.
    bool baud_ok = true;
    if (n > 0) {
      termios tio{};
      if (tcgetattr(master_, &tio) == 0 && want != B0 && cfgetospeed(&tio) != want) baud_ok = false;
    }
    uint8_t return_delay = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      const auto now = Clock::now();
      emu_.Advance(std::chrono::duration<double>(now - last).count());
      last = now;
      if (options_.on_tick) options_.on_tick(std::chrono::duration<double>(now - start).count(), emu_);
      if (n > 0 && baud_ok) {
        reply = emu_.Handle(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        if (!reply.empty()) {
          const uint8_t first = reply[2];
          if (emu_.HasServo(first)) return_delay = emu_.servo(first).regs[fb::reg::kReturnDelayTime.address];
        }
      } else {
        reply.clear();
        if (n > 0) wrong_baud_bytes_ += static_cast<uint64_t>(n);
      }
    }
    if (reply.empty()) continue;
    if (options_.wire_time) {
      const double us = (static_cast<double>(n) + static_cast<double>(reply.size())) * 10.0 * 1e6 / options_.baud +
                        2.0 * return_delay;
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(us)));
    }
    size_t done = 0;
    while (done < reply.size()) {
      const ssize_t w = write(master_, reply.data() + done, reply.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
  }
}

}  // namespace embody::robot
