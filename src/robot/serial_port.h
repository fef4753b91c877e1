// Byte streams for the servo bus: the ByteStream interface, and a termios serial port.
//
// The Feetech bus is a half-duplex UART (8N1, 1 Mbaud on the SO-101). Everything above this file
// (feetech_bus.h) talks to a ByteStream, so tests can put a pseudo-terminal or an in-memory fake
// where the USB adapter would be.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"

namespace embody::robot {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Writes every byte (or fails).
  virtual Status Write(std::span<const uint8_t> data) = 0;
  // Reads up to buf.size() bytes. Waits at most `timeout` for the first byte; returns 0 only when
  // that time passed with nothing to read. Returns what is available at once after that.
  virtual Result<size_t> Read(std::span<uint8_t> buf, std::chrono::microseconds timeout) = 0;
  // Drops bytes received but not yet read (stale replies) before a new transaction.
  virtual Status DiscardInput() = 0;
  // Waits until written bytes have left the host (tcdrain).
  virtual Status Drain() = 0;
  // The device path or a fake's name, for error messages.
  virtual const std::string& name() const = 0;
};

// termios speed constant for a baud rate; the rates Feetech servos support (4800 .. 1,000,000).
bool IsSupportedBaudRate(int baud);

class SerialPort final : public ByteStream {
 public:
  static constexpr int kDefaultBaud = 1'000'000;

  // Opens `path` read/write, exclusive, non-blocking, raw 8N1, no flow control, at `baud`.
  // Errors name the device and say what to check (missing, permission, busy, baud).
  static Result<std::unique_ptr<SerialPort>> Open(const std::string& path, int baud = kDefaultBaud);
  // Takes ownership of an open fd (e.g. the slave side of openpty) and configures it like Open.
  static Result<std::unique_ptr<SerialPort>> Adopt(int fd, std::string name, int baud = kDefaultBaud);

  ~SerialPort() override;
  SerialPort(const SerialPort&) = delete;
  SerialPort& operator=(const SerialPort&) = delete;

  Status Write(std::span<const uint8_t> data) override;
  Result<size_t> Read(std::span<uint8_t> buf, std::chrono::microseconds timeout) override;
  Status DiscardInput() override;
  Status Drain() override;
  const std::string& name() const override { return name_; }

  int fd() const { return fd_; }
  int baud() const { return baud_; }

 private:
  SerialPort(int fd, std::string name, int baud) : fd_(fd), name_(std::move(name)), baud_(baud) {}
  static Status Configure(int fd, const std::string& name, int baud);

  int fd_ = -1;
  std::string name_;
  int baud_ = kDefaultBaud;
};

}  // namespace embody::robot
