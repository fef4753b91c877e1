#include "camera/synthetic.h"

#include <cstdio>
#include <cstring>
#include <thread>

#include "io/image.h"

namespace embody::camera {

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sleeps until `next`, then schedules the frame after it (no drift; a late consumer skips).
void Pace(std::chrono::steady_clock::time_point* next, double fps) {
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / fps));
  const auto now = std::chrono::steady_clock::now();
  if (next->time_since_epoch().count() == 0 || *next + period < now) *next = now;
  std::this_thread::sleep_until(*next);
  *next += period;
}
}  // namespace

GeneratedGrabber::GeneratedGrabber(const GeneratedOptions& options) : o_(options) {}

std::string GeneratedGrabber::Describe() const {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "generated RGB %dx%d @ %.0f fps", o_.width, o_.height, o_.fps);
  return buf;
}

Status GeneratedGrabber::Grab(Frame* frame) {
  if (o_.disappear_after > 0 && n_ >= o_.disappear_after) {
    return NotFound("generated camera disappeared after " + std::to_string(n_) + " frames (injected fault)");
  }
  Pace(&next_, o_.fps);
  frame->Resize(o_.width, o_.height);
  // A diagonal gradient scrolling one pixel per frame; cheap (one pass, no per-pixel division).
  const uint8_t base = static_cast<uint8_t>(o_.seed * 53);
  uint8_t* p = frame->rgb.data();
  for (int y = 0; y < o_.height; ++y) {
    const uint8_t g = static_cast<uint8_t>(y + n_);
    for (int x = 0; x < o_.width; ++x, p += 3) {
      p[0] = static_cast<uint8_t>(x + y + n_ + base);
      p[1] = g;
      p[2] = static_cast<uint8_t>(x - n_);
    }
  }
  std::memcpy(frame->rgb.data(), &n_, std::min<size_t>(sizeof(n_), frame->rgb.size()));  // frame number
  frame->timestamp_ns = NowNs();
  ++n_;
  return Status::Ok();
}

Result<std::unique_ptr<FileGrabber>> FileGrabber::Open(const std::vector<std::string>& paths, double fps) {
  if (paths.empty()) return InvalidArgument("file camera: no image files given");
  if (!(fps > 0)) return InvalidArgument("file camera: fps must be positive");
  std::unique_ptr<FileGrabber> g(new FileGrabber());
  g->fps_ = fps;
  g->device_ = paths.size() == 1 ? paths[0] : paths[0] + " (+" + std::to_string(paths.size() - 1) + " files)";
  for (const std::string& path : paths) {
    EMBODY_ASSIGN_OR_RETURN(io::Image img, io::LoadImage(path));
    if (g->images_.empty()) {
      g->width_ = img.width;
      g->height_ = img.height;
    } else if (img.width != g->width_ || img.height != g->height_) {
      return InvalidArgument("file camera: " + path + " is " + std::to_string(img.width) + "x" +
                             std::to_string(img.height) + ", the first image is " + std::to_string(g->width_) + "x" +
                             std::to_string(g->height_));
    }
    g->images_.push_back(std::move(img.pixels));
  }
  return g;
}

std::string FileGrabber::Describe() const {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%zu image(s) %dx%d @ %.0f fps", images_.size(), width_, height_, fps_);
  return buf;
}

Status FileGrabber::Grab(Frame* frame) {
  Pace(&next_, fps_);
  frame->Resize(width_, height_);
  const auto& img = images_[next_image_];
  std::copy(img.begin(), img.end(), frame->rgb.begin());
  next_image_ = (next_image_ + 1) % images_.size();
  frame->timestamp_ns = NowNs();
  return Status::Ok();
}

}  // namespace embody::camera
