#include "robot/serial_port.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace embody::robot {
namespace {

std::string Errno(int err) { return std::strerror(err); }

speed_t SpeedFor(int baud) {
  switch (baud) {
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 576000: return B576000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    default: return B0;
  }
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool IsSupportedBaudRate(int baud) { return SpeedFor(baud) != B0; }

Status SerialPort::Configure(int fd, const std::string& name, int baud) {
  const speed_t speed = SpeedFor(baud);
  if (speed == B0) {
    return InvalidArgument("serial port " + name + ": unsupported baud rate " + std::to_string(baud) +
                           " (Feetech servos use 1000000 by default; 4800..1000000 are accepted)");
  }
  termios tio{};
  if (tcgetattr(fd, &tio) != 0) {
    const int err = errno;
    return IoError("serial port " + name + ": not a terminal device (tcgetattr: " + Errno(err) + ")");
  }
  cfmakeraw(&tio);                 // no echo, no line discipline, 8 data bits, no parity
  tio.c_cflag &= ~(CSTOPB | CRTSCTS | PARENB | CSIZE);
  tio.c_cflag |= CS8 | CLOCAL | CREAD;  // 8N1, ignore modem lines
  tio.c_iflag &= ~(IXON | IXOFF | IXANY);
  tio.c_cc[VMIN] = 0;              // reads never block: poll() does the waiting
  tio.c_cc[VTIME] = 0;
  if (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0) {
    const int err = errno;
    return IoError("serial port " + name + ": cannot set baud rate " + std::to_string(baud) + ": " + Errno(err));
  }
  if (tcsetattr(fd, TCSANOW, &tio) != 0) {
    const int err = errno;
    return IoError("serial port " + name + ": cannot configure (tcsetattr: " + Errno(err) + ")");
  }
  tcflush(fd, TCIOFLUSH);
  return Status::Ok();
}

Result<std::unique_ptr<SerialPort>> SerialPort::Open(const std::string& path, int baud) {
  if (!IsSupportedBaudRate(baud)) {
    return InvalidArgument("serial port " + path + ": unsupported baud rate " + std::to_string(baud));
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string hint;
    if (err == ENOENT) hint = " (is the arm's USB cable plugged in? list ports with `ls /dev/ttyACM* /dev/ttyUSB*`)";
    if (err == EACCES) hint = " (add your user to the dialout group, or chmod the device)";
    if (err == EBUSY) hint = " (another program holds the port)";
    return IoError("serial port " + path + ": cannot open: " + Errno(err) + hint);
  }
  if (ioctl(fd, TIOCEXCL) != 0) {
    // Not fatal: some pseudo-terminals refuse exclusive mode.
  }
  Status st = Configure(fd, path, baud);
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  return std::unique_ptr<SerialPort>(new SerialPort(fd, path, baud));
}

Result<std::unique_ptr<SerialPort>> SerialPort::Adopt(int fd, std::string name, int baud) {
  if (fd < 0) return InvalidArgument("serial port " + name + ": invalid file descriptor");
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(fd);
    return IoError("serial port " + name + ": fcntl: " + Errno(err));
  }
  Status st = Configure(fd, name, baud);
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  return std::unique_ptr<SerialPort>(new SerialPort(fd, std::move(name), baud));
}

SerialPort::~SerialPort() {
  if (fd_ >= 0) ::close(fd_);
}

Status SerialPort::Write(std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    const int err = errno;
    if (n < 0 && err == EINTR) continue;
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      const int r = ::poll(&pfd, 1, 1000);
      if (r == 0) return IoError("serial port " + name_ + ": write timed out (1 s) after " + std::to_string(done) + " of " + std::to_string(data.size()) + " bytes");
      if (r < 0 && errno != EINTR) return IoError("serial port " + name_ + ": poll: " + Errno(errno));
      if (r > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(pfd.revents & POLLOUT)) {
        return IoError("serial port " + name_ + ": device went away (unplugged?)");
      }
      continue;
    }
    return IoError("serial port " + name_ + ": write failed: " + (n == 0 ? std::string("wrote 0 bytes") : Errno(err)) +
                   " (unplugged?)");
  }
  return Status::Ok();
}

Result<size_t> SerialPort::Read(std::span<uint8_t> buf, std::chrono::microseconds timeout) {
  if (buf.empty()) return size_t{0};
  const int64_t deadline = NowUs() + timeout.count();
  for (;;) {
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      const int err = errno;
      // EIO on a pty whose other end closed reads like an unplugged adapter.
      return IoError("serial port " + name_ + ": read failed: " + Errno(err) + " (unplugged?)");
    }
    // n == 0 (VMIN=0 with nothing buffered) or EAGAIN: wait for data.
    const int64_t left_us = deadline - NowUs();
    if (left_us <= 0) return size_t{0};
    pollfd pfd{fd_, POLLIN, 0};
    const int ms = static_cast<int>((left_us + 999) / 1000);
    const int r = ::poll(&pfd, 1, ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return IoError("serial port " + name_ + ": poll: " + Errno(err));
    }
    if (r == 0) return size_t{0};
    if ((pfd.revents & (POLLERR | POLLNVAL)) && !(pfd.revents & POLLIN)) {
      return IoError("serial port " + name_ + ": device error while reading (unplugged?)");
    }
    if ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN)) {
      // A hung-up pty reports POLLHUP forever: sleep out the timeout rather than spin.
      return IoError("serial port " + name_ + ": device hung up (unplugged?)");
    }
  }
}

Status SerialPort::DiscardInput() {
  if (tcflush(fd_, TCIFLUSH) != 0) {
    const int err = errno;
    return IoError("serial port " + name_ + ": tcflush: " + Errno(err));
  }
  return Status::Ok();
}

Status SerialPort::Drain() {
  if (tcdrain(fd_) != 0) {
    const int err = errno;
    return IoError("serial port " + name_ + ": tcdrain: " + Errno(err));
  }
  return Status::Ok();
}

}  // namespace embody::robot
