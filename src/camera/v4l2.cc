#include "camera/v4l2.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace embody::camera {

namespace {

namespace fs = std::filesystem;

int Xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r == -1 && errno == EINTR);
  return r;
}

std::string Errno(int err) { return std::strerror(err); }

std::string FourCc(uint32_t f) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((f >> (8 * i)) & 0xFF);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<uint32_t> PixelFormats(int fd) {
  std::vector<uint32_t> out;
  v4l2_fmtdesc d{};
  d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  for (d.index = 0; Xioctl(fd, VIDIOC_ENUM_FMT, &d) == 0; ++d.index) out.push_back(d.pixelformat);
  return out;
}

std::vector<V4l2FrameSize> FrameSizes(int fd, uint32_t pixfmt) {
  std::vector<V4l2FrameSize> out;
  v4l2_frmsizeenum fs{};
  fs.pixel_format = pixfmt;
  for (fs.index = 0; Xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0; ++fs.index) {
    V4l2FrameSize size;
    if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
      size.width = static_cast<int>(fs.discrete.width);
      size.height = static_cast<int>(fs.discrete.height);
    } else {  // stepwise / continuous: report the largest
      size.width = static_cast<int>(fs.stepwise.max_width);
      size.height = static_cast<int>(fs.stepwise.max_height);
    }
    v4l2_frmivalenum fi{};
    fi.pixel_format = pixfmt;
    fi.width = static_cast<uint32_t>(size.width);
    fi.height = static_cast<uint32_t>(size.height);
    for (fi.index = 0; Xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0; ++fi.index) {
      if (fi.type != V4L2_FRMIVAL_TYPE_DISCRETE || fi.discrete.numerator == 0) break;
      size.fps.push_back(static_cast<double>(fi.discrete.denominator) / fi.discrete.numerator);
    }
    out.push_back(size);
    if (fs.type != V4L2_FRMSIZE_TYPE_DISCRETE) break;
  }
  return out;
}

// Sets a control if the driver has it; returns false (and why in *note) if not.
bool SetControl(int fd, uint32_t id, int value, std::string* note) {
  v4l2_queryctrl q{};
  q.id = id;
  if (Xioctl(fd, VIDIOC_QUERYCTRL, &q) != 0 || (q.flags & V4L2_CTRL_FLAG_DISABLED)) {
    *note = "no such control";
    return false;
  }
  v4l2_control c{id, value};
  if (Xioctl(fd, VIDIOC_S_CTRL, &c) != 0) {
    *note = "refused (" + Errno(errno) + ")";
    return false;
  }
  return true;
}

bool GetControl(int fd, uint32_t id, int* value) {
  v4l2_control c{id, 0};
  if (Xioctl(fd, VIDIOC_G_CTRL, &c) != 0) return false;
  *value = c.value;
  return true;
}

Result<int> ParseInt(const std::string& s, const std::string& what) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return InvalidArgument(what + ": 'fixed', 'auto' or a number, got '" + s + "'");
}

}  // namespace

Result<std::unique_ptr<V4l2Grabber>> V4l2Grabber::Open(const V4l2Options& options) {
  std::unique_ptr<V4l2Grabber> g(new V4l2Grabber());
  g->o_ = options;
  const std::string& dev = options.device;
  g->fd_ = ::open(dev.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (g->fd_ < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("camera " + dev + " does not exist (unplugged? `embody cameras` lists devices)");
    if (err == EACCES) return IoError("camera " + dev + ": permission denied (add your user to the 'video' group)");
    if (err == EBUSY) return IoError("camera " + dev + ": busy (another program is using it)");
    return IoError("camera " + dev + ": cannot open: " + Errno(err));
  }
  const int fd = g->fd_;
  v4l2_capability cap{};
  if (Xioctl(fd, VIDIOC_QUERYCAP, &cap) != 0) return IoError("camera " + dev + ": not a V4L2 device (" + Errno(errno) + ")");
  const uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
    return InvalidArgument("camera " + dev + " (" + reinterpret_cast<const char*>(cap.card) +
                           ") is not a video capture node (UVC cameras also expose a metadata node; try the other "
                           "/dev/video number)");
  }
  if (!(caps & V4L2_CAP_STREAMING)) return Unimplemented("camera " + dev + ": driver has no streaming I/O");

  // Format: MJPEG or YUYV, whichever was asked for and is offered.
  const std::vector<uint32_t> offered = PixelFormats(fd);
  std::string offered_s;
  for (uint32_t f : offered) offered_s += (offered_s.empty() ? "" : ", ") + FourCc(f);
  auto has = [&](uint32_t f) { return std::find(offered.begin(), offered.end(), f) != offered.end(); };
  uint32_t want = 0;
  if (options.format == "mjpeg" || options.format == "MJPG") want = V4L2_PIX_FMT_MJPEG;
  else if (options.format == "yuyv" || options.format == "YUYV") want = V4L2_PIX_FMT_YUYV;
  else if (options.format == "auto") want = has(V4L2_PIX_FMT_MJPEG) ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
  else return InvalidArgument("camera " + dev + ": format must be mjpeg, yuyv or auto, got '" + options.format + "'");
  if (!has(want)) {
    return Unimplemented("camera " + dev + ": does not offer " + FourCc(want) + " (it offers: " + offered_s +
                         "); embody decodes MJPG and YUYV");
  }
  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = static_cast<uint32_t>(options.width);
  fmt.fmt.pix.height = static_cast<uint32_t>(options.height);
  fmt.fmt.pix.pixelformat = want;
  fmt.fmt.pix.field = V4L2_FIELD_NONE;
  if (Xioctl(fd, VIDIOC_S_FMT, &fmt) != 0) return IoError("camera " + dev + ": VIDIOC_S_FMT failed: " + Errno(errno));
  if (fmt.fmt.pix.pixelformat != want || static_cast<int>(fmt.fmt.pix.width) != options.width ||
      static_cast<int>(fmt.fmt.pix.height) != options.height) {
    std::string sizes;
    for (const V4l2FrameSize& s : FrameSizes(fd, want))
      sizes += (sizes.empty() ? "" : ", ") + std::to_string(s.width) + "x" + std::to_string(s.height);
    return InvalidArgument("camera " + dev + ": asked for " + FourCc(want) + " " + std::to_string(options.width) + "x" +
                           std::to_string(options.height) + ", the driver chose " + FourCc(fmt.fmt.pix.pixelformat) +
                           " " + std::to_string(fmt.fmt.pix.width) + "x" + std::to_string(fmt.fmt.pix.height) +
                           " (sizes offered: " + sizes + ")");
  }
  g->pixfmt_ = want;
  g->width_ = options.width;
  g->height_ = options.height;

  v4l2_streamparm parm{};
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  parm.parm.capture.timeperframe.numerator = 1000;
  parm.parm.capture.timeperframe.denominator = static_cast<uint32_t>(std::lround(options.fps * 1000));
  if (Xioctl(fd, VIDIOC_S_PARM, &parm) == 0 && parm.parm.capture.timeperframe.numerator > 0) {
    g->fps_ = static_cast<double>(parm.parm.capture.timeperframe.denominator) / parm.parm.capture.timeperframe.numerator;
  } else {
    g->fps_ = options.fps;  // drivers without frame-rate control deliver what they deliver
  }
  if (std::abs(g->fps_ - options.fps) > 0.01 * options.fps) {
    return InvalidArgument("camera " + dev + ": asked for " + std::to_string(options.fps) + " fps, the driver set " +
                           std::to_string(g->fps_) + " (`embody cameras` lists the rates per size)");
  }
  EMBODY_TRY(g->SetControls());

  v4l2_requestbuffers req{};
  req.count = static_cast<uint32_t>(std::max(2, options.buffers));
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (Xioctl(fd, VIDIOC_REQBUFS, &req) != 0 || req.count < 2)
    return IoError("camera " + dev + ": cannot get mmap buffers (" + Errno(errno) + ")");
  for (uint32_t i = 0; i < req.count; ++i) {
    v4l2_buffer b{};
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = i;
    if (Xioctl(fd, VIDIOC_QUERYBUF, &b) != 0) return IoError("camera " + dev + ": VIDIOC_QUERYBUF: " + Errno(errno));
    void* p = mmap(nullptr, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
    if (p == MAP_FAILED) return IoError("camera " + dev + ": mmap: " + Errno(errno));
    g->buffers_.push_back({p, b.length});
    if (Xioctl(fd, VIDIOC_QBUF, &b) != 0) return IoError("camera " + dev + ": VIDIOC_QBUF: " + Errno(errno));
  }
  v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (Xioctl(fd, VIDIOC_STREAMON, &type) != 0) return IoError("camera " + dev + ": VIDIOC_STREAMON: " + Errno(errno));
  g->streaming_ = true;
  return g;
}

Status V4l2Grabber::SetControls() {
  // Fixed exposure and white balance keep the images a policy sees like the ones it was trained
  // on; auto modes drift with the arm's shadow. Missing controls are reported, not fatal.
  std::string note, out;
  int value = 0;
  if (o_.exposure != "auto") {
    if (SetControl(fd_, V4L2_CID_EXPOSURE_AUTO, V4L2_EXPOSURE_MANUAL, &note)) {
      // Auto priority lets the camera lower its frame rate in the dark: keep the rate fixed.
      SetControl(fd_, V4L2_CID_EXPOSURE_AUTO_PRIORITY, 0, &note);
      if (o_.exposure != "fixed") {
        EMBODY_ASSIGN_OR_RETURN(int v, ParseInt(o_.exposure, "camera " + o_.device + " exposure"));
        if (!SetControl(fd_, V4L2_CID_EXPOSURE_ABSOLUTE, v, &note)) out += "exposure value " + note + "; ";
      }
      out += GetControl(fd_, V4L2_CID_EXPOSURE_ABSOLUTE, &value) ? "exposure fixed at " + std::to_string(value)
                                                                    : std::string("exposure manual");
    } else {
      out += "exposure: " + note + " (left to the camera)";
    }
  } else {
    out += "exposure auto";
  }
  out += ", ";
  if (o_.white_balance != "auto") {
    if (SetControl(fd_, V4L2_CID_AUTO_WHITE_BALANCE, 0, &note)) {
      if (o_.white_balance != "fixed") {
        EMBODY_ASSIGN_OR_RETURN(int v, ParseInt(o_.white_balance, "camera " + o_.device + " white balance"));
        if (!SetControl(fd_, V4L2_CID_WHITE_BALANCE_TEMPERATURE, v, &note)) out += "white balance value " + note + "; ";
      }
      out += GetControl(fd_, V4L2_CID_WHITE_BALANCE_TEMPERATURE, &value)
                 ? "white balance fixed at " + std::to_string(value) + " K"
                 : std::string("white balance manual");
    } else {
      out += "white balance: " + note + " (left to the camera)";
    }
  } else {
    out += "white balance auto";
  }
  controls_ = out;
  return Status::Ok();
}

V4l2Grabber::~V4l2Grabber() {
  if (streaming_) {
    v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    Xioctl(fd_, VIDIOC_STREAMOFF, &type);
  }
  for (const Buffer& b : buffers_) munmap(b.start, b.length);
  if (fd_ >= 0) close(fd_);
}

std::string V4l2Grabber::Describe() const {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%s %dx%d @ %.0f fps", FourCc(pixfmt_).c_str(), width_, height_, fps_);
  return std::string(buf) + ", " + controls_;
}

Status V4l2Grabber::Grab(Frame* frame) {
  pollfd pfd{fd_, POLLIN, 0};
  const int ready = poll(&pfd, 1, 1000);
  if (ready == 0) return IoError("camera " + o_.device + ": no frame for 1 s");
  if (ready < 0) return IoError("camera " + o_.device + ": poll: " + Errno(errno));
  v4l2_buffer b{};
  b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b.memory = V4L2_MEMORY_MMAP;
  if (Xioctl(fd_, VIDIOC_DQBUF, &b) != 0) {
    const int err = errno;
    if (err == EAGAIN) return IoError("camera " + o_.device + ": woke without a frame");
    if (err == ENODEV || err == EIO || err == EPIPE)
      return NotFound("camera " + o_.device + " disappeared (" + Errno(err) + "): unplugged or reset?");
    return IoError("camera " + o_.device + ": VIDIOC_DQBUF: " + Errno(err));
  }
  Status s;
  if (b.flags & V4L2_BUF_FLAG_ERROR) {
    s = DataLoss("camera " + o_.device + ": the driver flagged a damaged frame");
  } else if (pixfmt_ == V4L2_PIX_FMT_MJPEG) {
    s = jpeg_.Decode(std::span<const uint8_t>(static_cast<const uint8_t*>(buffers_[b.index].start), b.bytesused), frame);
    if (s.ok() && (frame->width != width_ || frame->height != height_))
      s = DataLoss("camera " + o_.device + ": MJPEG frame of an unexpected size");
  } else {
    if (b.bytesused < static_cast<uint32_t>(width_ * height_ * 2)) {
      s = DataLoss("camera " + o_.device + ": short YUYV frame");
    } else {
      frame->Resize(width_, height_);
      YuyvToRgb(std::span<const uint8_t>(static_cast<const uint8_t*>(buffers_[b.index].start), b.bytesused), width_,
                height_, frame->rgb.data());
    }
  }
  if ((b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) {
    frame->timestamp_ns = static_cast<int64_t>(b.timestamp.tv_sec) * 1'000'000'000 + b.timestamp.tv_usec * 1000;
  } else {
    frame->timestamp_ns = NowNs();
  }
  if (Xioctl(fd_, VIDIOC_QBUF, &b) != 0) {
    const int err = errno;
    if (err == ENODEV) return NotFound("camera " + o_.device + " disappeared (" + Errno(err) + ")");
    return IoError("camera " + o_.device + ": VIDIOC_QBUF: " + Errno(err));
  }
  return s;
}

std::vector<V4l2Device> ListV4l2Devices() {
  std::vector<std::pair<int, std::string>> nodes;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/dev", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("video", 0) != 0 || name.size() == 5) continue;
    if (!std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    nodes.push_back({std::stoi(name.substr(5)), e.path().string()});
  }
  std::sort(nodes.begin(), nodes.end());
  std::vector<std::pair<std::string, std::string>> links;  // target, link
  for (const auto& e : fs::directory_iterator("/dev/v4l/by-id", ec)) {
    std::error_code ec2;
    const fs::path target = fs::canonical(e.path(), ec2);
    if (!ec2) links.push_back({target.string(), e.path().string()});
  }
  std::vector<V4l2Device> out;
  for (const auto& [n, path] : nodes) {
    V4l2Device d;
    d.path = path;
    for (const auto& [target, link] : links)
      if (target == path) d.by_id = link;
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      d.error = Errno(errno);
      out.push_back(d);
      continue;
    }
    v4l2_capability cap{};
    if (Xioctl(fd, VIDIOC_QUERYCAP, &cap) == 0) {
      d.card = reinterpret_cast<const char*>(cap.card);
      d.driver = reinterpret_cast<const char*>(cap.driver);
      d.bus_info = reinterpret_cast<const char*>(cap.bus_info);
      const uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
      d.capture = (caps & V4L2_CAP_VIDEO_CAPTURE) != 0;
      if (d.capture) {
        v4l2_fmtdesc fd_desc{};
        fd_desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        for (fd_desc.index = 0; Xioctl(fd, VIDIOC_ENUM_FMT, &fd_desc) == 0; ++fd_desc.index) {
          V4l2Format f;
          f.fourcc = FourCc(fd_desc.pixelformat);
          f.description = reinterpret_cast<const char*>(fd_desc.description);
          f.sizes = FrameSizes(fd, fd_desc.pixelformat);
          d.formats.push_back(f);
        }
      }
    } else {
      d.error = "not a V4L2 device (" + Errno(errno) + ")";
    }
    close(fd);
    out.push_back(d);
  }
  return out;
}

}  // namespace embody::camera
