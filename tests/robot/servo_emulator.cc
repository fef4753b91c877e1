#include "servo_emulator.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <algorithm>

#include "robot/feetech_protocol.h"

namespace embody::robot::testing {
namespace fb = feetech;

void ServoEmulator::AddServo(uint8_t id, int position) {
  EmulatedServo s;
  auto put16 = [&](uint8_t a, int v) { s.regs[a] = uint8_t(v & 0xFF); s.regs[a + 1] = uint8_t(v >> 8); };
  s.regs[0] = 3;  // firmware 3.10
  s.regs[1] = 10;
  put16(fb::reg::kModelNumber.address, fb::kSts3215ModelNumber);
  s.regs[fb::reg::kId.address] = id;
  put16(fb::reg::kMaxPositionLimit.address, 4095);
  s.regs[fb::reg::kPCoefficient.address] = 32;
  put16(fb::reg::kPresentPosition.address, position);
  put16(fb::reg::kGoalPosition.address, position);
  s.regs[fb::reg::kPresentVoltage.address] = 120;
  servos_[id] = s;
}

int ServoEmulator::Register16(uint8_t id, uint8_t addr) const {
  const auto& r = servos_.at(id).regs;
  return r[addr] | (r[addr + 1] << 8);
}

void ServoEmulator::Step(int max_step) {
  for (auto& [id, s] : servos_) {
    if (!s.regs[fb::reg::kTorqueEnable.address]) continue;
    const int goal = fb::DecodeSignMagnitude(s.regs[42] | (s.regs[43] << 8), 15);
    const int present = fb::DecodeSignMagnitude(s.regs[56] | (s.regs[57] << 8), 15);
    const int next = present + std::clamp(goal - present, -max_step, max_step);
    s.regs[56] = uint8_t(next & 0xFF);
    s.regs[57] = uint8_t(next >> 8);
  }
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
    if (p.state == fb::ParseState::kBadChecksum) continue;  // servos ignore corrupt instructions
    ++instructions_;
    const fb::Frame& f = p.frame;
    const auto& prm = f.params;
    switch (static_cast<fb::Instruction>(f.code)) {
      case fb::Instruction::kPing:
        Reply(f.id, {}, out);
        break;
      case fb::Instruction::kRead:
        if (prm.size() == 2 && servos_.count(f.id)) {
          auto& r = servos_[f.id].regs;
          Reply(f.id, std::span<const uint8_t>(r.data() + prm[0], std::min<size_t>(prm[1], 256 - prm[0])), out);
        }
        break;
      case fb::Instruction::kWrite:
        if (prm.size() >= 2 && servos_.count(f.id)) {
          auto& r = servos_[f.id].regs;
          std::copy(prm.begin() + 1, prm.end(), r.begin() + prm[0]);
          Reply(f.id, {}, out);
        }
        break;
      case fb::Instruction::kSyncRead:
        if (prm.size() >= 3) {
          for (size_t i = 2; i < prm.size(); ++i) {
            auto it = servos_.find(prm[i]);
            if (it == servos_.end()) continue;
            Reply(prm[i], std::span<const uint8_t>(it->second.regs.data() + prm[0], prm[1]), out);
          }
        }
        break;
      case fb::Instruction::kSyncWrite:
        if (prm.size() >= 2) {
          const size_t len = prm[1];
          for (size_t i = 2; i + 1 + len <= prm.size(); i += 1 + len) {
            auto it = servos_.find(prm[i]);
            if (it == servos_.end()) continue;
            std::copy(prm.begin() + static_cast<std::ptrdiff_t>(i + 1),
                      prm.begin() + static_cast<std::ptrdiff_t>(i + 1 + len), it->second.regs.begin() + prm[0]);
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

PtyServoBus::PtyServoBus() {
  int slave = -1;
  char name[256] = {};
  if (openpty(&master_, &slave, name, nullptr, nullptr) != 0) {
    master_ = -1;
    return;
  }
  slave_path_ = name;
  slave_keepalive_ = slave;  // keeps the pty alive between opens of the slave path
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
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
  uint8_t buf[512];
  while (!stop_) {
    pollfd pfd{master_, POLLIN, 0};
    if (poll(&pfd, 1, 20) <= 0) continue;
    const ssize_t n = read(master_, buf, sizeof(buf));
    if (n <= 0) continue;
    std::vector<uint8_t> reply;
    {
      std::lock_guard<std::mutex> l(mu_);
      reply = emu_.Handle(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      emu_.Step(50);  // the motors move between transactions
    }
    size_t done = 0;
    while (done < reply.size()) {
      const ssize_t w = write(master_, reply.data() + done, reply.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
  }
}

}  // namespace embody::robot::testing
