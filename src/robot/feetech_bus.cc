#include "robot/feetech_bus.h"

#include <algorithm>
#include <cstdio>

namespace embody::robot {

using feetech::Frame;
using feetech::ParseState;

namespace {
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

FeetechBus::FeetechBus(ByteStream& stream, FeetechBusOptions options) : stream_(stream), options_(options) {}

std::string FeetechBus::Where(uint8_t id) const {
  return "servo " + std::to_string(id) + " on " + stream_.name();
}

std::map<uint8_t, FeetechBus::Reply> FeetechBus::Transact(std::span<const uint8_t> packet,
                                                          std::span<const uint8_t> ids, size_t reply_params) {
  std::map<uint8_t, Reply> replies;
  for (uint8_t id : ids) replies[id] = Reply{};
  ++counters_.transactions;
  rx_.clear();
  auto fail_all = [&](const Status& st) {
    for (auto& [id, r] : replies) {
      r.outcome = Outcome::kIo;
      r.io = st;
    }
    return replies;
  };
  if (Status st = stream_.DiscardInput(); !st.ok()) return fail_all(st);
  if (Status st = stream_.Write(packet); !st.ok()) return fail_all(st);
  if (ids.empty()) return replies;

  const size_t expected_bytes = packet.size() + ids.size() * (reply_params + 6);
  const int64_t deadline = NowUs() + options_.base_timeout.count() +
                           static_cast<int64_t>(expected_bytes + 3) * options_.byte_time.count();
  size_t pending = ids.size();
  uint8_t buf[256];
  while (pending > 0) {
    // Parse what we have.
    bool progressed = true;
    while (progressed && !rx_.empty()) {
      progressed = false;
      feetech::ParseResult p = feetech::ParseStatus(rx_);
      if (p.consumed > 0) {
        if (p.state == ParseState::kNeedMore) ++counters_.stray_packets;  // junk before a header
        rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(p.consumed));
        progressed = true;
      }
      if (p.state == ParseState::kNeedMore) continue;
      auto it = replies.find(p.frame.id);
      if (it == replies.end() || it->second.outcome == Outcome::kOk) {
        ++counters_.stray_packets;
        continue;
      }
      if (p.state == ParseState::kBadChecksum) {
        ++counters_.checksum_errors;
        if (it->second.outcome != Outcome::kCorrupt) {
          it->second.outcome = Outcome::kCorrupt;
          --pending;  // it answered, badly: do not wait for it any longer
        }
        continue;
      }
      if (p.frame.params.size() != reply_params) {
        ++counters_.checksum_errors;  // well-formed but the wrong size: treat as corrupt
        if (it->second.outcome != Outcome::kCorrupt) --pending;
        it->second.outcome = Outcome::kCorrupt;
        continue;
      }
      if (it->second.outcome == Outcome::kCorrupt) ++pending;  // a good copy after a corrupt one
      it->second.outcome = Outcome::kOk;
      it->second.frame = std::move(p.frame);
      --pending;
    }
    if (pending == 0) break;
    const int64_t left = deadline - NowUs();
    if (left <= 0) break;
    auto n = stream_.Read(buf, std::chrono::microseconds(left));
    if (!n.ok()) return fail_all(n.status());
    if (*n == 0) break;
    rx_.insert(rx_.end(), buf, buf + *n);
  }
  for (auto& [id, r] : replies) {
    if (r.outcome == Outcome::kTimeout) ++counters_.timeouts;
  }
  return replies;
}

Status FeetechBus::CheckErrorBits(uint8_t id, uint8_t error, const std::string& what) {
  if (error == 0) return Status::Ok();
  ++counters_.servo_errors;
  counters_.last_error_bits = error;
  if (!options_.error_bits_fatal) return Status::Ok();
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02X", error);
  return FailedPrecondition(Where(id) + ": " + what + ": servo reported " + feetech::DescribeErrorBits(error) +
                            " (status error byte " + hex + ")");
}

Result<Frame> FeetechBus::TransactOne(std::span<const uint8_t> packet, uint8_t id, size_t reply_params,
                                      const std::string& what) {
  const uint8_t ids[1] = {id};
  Outcome last = Outcome::kTimeout;
  for (int attempt = 0; attempt <= options_.num_retries; ++attempt) {
    if (attempt > 0) ++counters_.retries;
    auto replies = Transact(packet, ids, reply_params);
    Reply& r = replies[id];
    if (r.outcome == Outcome::kIo) return r.io.WithContext(Where(id) + ": " + what);
    if (r.outcome == Outcome::kOk) {
      EMBODY_TRY(CheckErrorBits(id, r.frame.code, what));
      return std::move(r.frame);
    }
    last = r.outcome;
  }
  const std::string tries = " after " + std::to_string(options_.num_retries + 1) + " tries";
  if (last == Outcome::kCorrupt) {
    return DataLoss(Where(id) + ": " + what + ": corrupt reply (bad checksum or length)" + tries);
  }
  return IoError(Where(id) + ": " + what + ": no reply (timeout)" + tries +
                 "; check the servo id, its power, wiring and the baud rate");
}

Result<uint16_t> FeetechBus::Ping(uint8_t id) {
  EMBODY_ASSIGN_OR_RETURN(auto ping, feetech::PingPacket(id));
  if (id == feetech::kBroadcastId) return InvalidArgument("Ping: use a single servo id, not broadcast");
  EMBODY_TRY(TransactOne(ping, id, 0, "ping"));
  EMBODY_ASSIGN_OR_RETURN(uint32_t model, ReadRaw(id, feetech::reg::kModelNumber.address, 2));
  return static_cast<uint16_t>(model);
}

Result<uint32_t> FeetechBus::ReadRaw(uint8_t id, uint8_t address, uint8_t length) {
  EMBODY_ASSIGN_OR_RETURN(auto pkt, feetech::ReadPacket(id, address, length));
  EMBODY_ASSIGN_OR_RETURN(Frame f, TransactOne(pkt, id, length, "read address " + std::to_string(address)));
  return feetech::FromLittleEndian(f.params);
}

Status FeetechBus::WriteRaw(uint8_t id, uint8_t address, std::span<const uint8_t> data) {
  if (id > feetech::kMaxId) return InvalidArgument("write needs one servo id <= 252; use SyncWrite to broadcast");
  EMBODY_ASSIGN_OR_RETURN(auto pkt, feetech::WritePacket(id, address, data));
  EMBODY_TRY(TransactOne(pkt, id, 0, "write address " + std::to_string(address)));
  return Status::Ok();
}

Result<int> FeetechBus::Read(uint8_t id, const feetech::Register& reg) {
  EMBODY_ASSIGN_OR_RETURN(auto pkt, feetech::ReadPacket(id, reg.address, reg.size));
  EMBODY_ASSIGN_OR_RETURN(Frame f, TransactOne(pkt, id, reg.size, "read " + std::string(reg.name)));
  return feetech::DecodeRegisterValue(reg, feetech::FromLittleEndian(f.params));
}

Status FeetechBus::Write(uint8_t id, const feetech::Register& reg, int value) {
  if (id > feetech::kMaxId) return InvalidArgument("write needs one servo id <= 252; use SyncWrite to broadcast");
  auto raw = feetech::EncodeRegisterValue(reg, value);
  if (!raw.ok()) return raw.status().WithContext(Where(id) + ": write");
  EMBODY_ASSIGN_OR_RETURN(auto pkt, feetech::WritePacket(id, reg.address, feetech::ToLittleEndian(*raw, reg.size)));
  EMBODY_TRY(TransactOne(pkt, id, 0, "write " + std::string(reg.name) + " = " + std::to_string(value)));
  return Status::Ok();
}

Result<std::vector<int>> FeetechBus::SyncRead(const feetech::Register& reg, std::span<const uint8_t> ids) {
  EMBODY_ASSIGN_OR_RETURN(auto pkt, feetech::SyncReadPacket(reg.address, reg.size, ids));
  std::map<uint8_t, Reply> replies;
  bool all_ok = false;
  for (int attempt = 0; attempt <= options_.num_retries && !all_ok; ++attempt) {
    if (attempt > 0) ++counters_.retries;
    replies = Transact(pkt, ids, reg.size);
    all_ok = true;
    for (auto& [id, r] : replies) {
      if (r.outcome == Outcome::kIo) return r.io.WithContext("sync read " + std::string(reg.name));
      if (r.outcome != Outcome::kOk) all_ok = false;
    }
  }
  const std::string what = "sync read " + std::string(reg.name);
  if (!all_ok) {
    std::string msg;
    bool any_corrupt = false;
    for (uint8_t id : ids) {
      const Reply& r = replies[id];
      if (r.outcome == Outcome::kOk) continue;
      if (!msg.empty()) msg += "; ";
      any_corrupt |= r.outcome == Outcome::kCorrupt;
      msg += "servo " + std::to_string(id) +
             (r.outcome == Outcome::kCorrupt ? ": corrupt reply" : ": no reply (timeout)");
    }
    msg = stream_.name() + ": " + what + " failed after " + std::to_string(options_.num_retries + 1) +
          " tries: " + msg;
    return any_corrupt ? DataLoss(msg) : IoError(msg);
  }
  std::vector<int> values;
  values.reserve(ids.size());
  for (uint8_t id : ids) {
    const Reply& r = replies[id];
    EMBODY_TRY(CheckErrorBits(id, r.frame.code, what));
    values.push_back(feetech::DecodeRegisterValue(reg, feetech::FromLittleEndian(r.frame.params)));
  }
  return values;
}

Status FeetechBus::SyncWrite(const feetech::Register& reg, std::span<const uint8_t> ids, std::span<const int> values) {
  if (ids.size() != values.size()) {
    return InvalidArgument("sync write " + std::string(reg.name) + ": " + std::to_string(ids.size()) + " ids, " +
                           std::to_string(values.size()) + " values");
  }
  std::vector<uint8_t> data;
  data.reserve(ids.size() * reg.size);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto raw = feetech::EncodeRegisterValue(reg, values[i]);
    if (!raw.ok()) return raw.status().WithContext(Where(ids[i]) + ": sync write");
    auto bytes = feetech::ToLittleEndian(*raw, reg.size);
    data.insert(data.end(), bytes.begin(), bytes.end());
  }
  EMBODY_ASSIGN_OR_RETURN(auto pkt, feetech::SyncWritePacket(reg.address, reg.size, ids, data));
  ++counters_.transactions;
  const std::string what = "sync write " + std::string(reg.name);
  EMBODY_TRY_CTX(stream_.DiscardInput(), what);
  EMBODY_TRY_CTX(stream_.Write(pkt), what);
  return Status::Ok();
}

}  // namespace embody::robot
