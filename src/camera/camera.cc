#include "camera/camera.h"

#include <utility>

namespace embody::camera {

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Camera::Camera(std::string name, std::unique_ptr<FrameGrabber> grabber, CameraOptions options)
    : name_(std::move(name)), grabber_(std::move(grabber)), options_(options) {}

Result<std::unique_ptr<Camera>> Camera::Start(std::string name, std::unique_ptr<FrameGrabber> grabber,
                                              CameraOptions options) {
  std::unique_ptr<Camera> cam(new Camera(std::move(name), std::move(grabber), options));
  cam->thread_ = std::thread([c = cam.get()] { c->Loop(); });
  std::unique_lock<std::mutex> lock(cam->mu_);
  const bool ready = cam->cv_.wait_for(lock, options.warmup, [&] { return cam->latest_.sequence > 0 || cam->failed_; });
  if (cam->failed_) return cam->Stopped();
  if (!ready) {
    lock.unlock();
    cam->Stop();
    return IoError("camera " + cam->name_ + " (" + cam->grabber_->device() + "): no frame within " +
                   std::to_string(options.warmup.count()) + " ms of starting");
  }
  return cam;
}

Camera::~Camera() { Stop(); }

void Camera::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Camera::Loop() {
  int consecutive = 0;
  uint64_t sequence = 0;
  while (!stop_.load()) {
    Status s = grabber_->Grab(&back_);
    if (s.ok()) {
      consecutive = 0;
      if (back_.timestamp_ns == 0) back_.timestamp_ns = NowNs();
      back_.sequence = ++sequence;
      {
        std::lock_guard<std::mutex> lock(mu_);
        std::swap(back_, latest_);
        ++stats_.frames;
      }
      cv_.notify_all();
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (s.code() == StatusCode::kDataLoss) {
      ++stats_.bad_frames;
      continue;
    }
    ++stats_.failures;
    if (s.code() == StatusCode::kNotFound || ++consecutive >= options_.max_consecutive_failures) {
      failed_ = true;
      error_ = s;
      cv_.notify_all();
      return;
    }
  }
}

Status Camera::Stopped() const {
  return error_.WithContext("camera " + name_ + " (" + grabber_->device() + ") stopped capturing");
}

Status Camera::CopyLocked(Frame* out) {
  // Copy into the caller's buffer (its capacity is kept: no allocation once sized).
  out->width = latest_.width;
  out->height = latest_.height;
  out->rgb.resize(latest_.rgb.size());
  std::copy(latest_.rgb.begin(), latest_.rgb.end(), out->rgb.begin());
  out->timestamp_ns = latest_.timestamp_ns;
  out->sequence = latest_.sequence;
  ++stats_.reads;
  if (latest_.sequence <= last_read_) ++stats_.repeated;
  last_read_ = std::max(last_read_, latest_.sequence);
  return Status::Ok();
}

Status Camera::ReadLatest(Frame* out, std::chrono::milliseconds max_age) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) return Stopped();
  if (latest_.sequence == 0) return FailedPrecondition("camera " + name_ + " (" + grabber_->device() + "): no frame yet");
  const int64_t age_ns = NowNs() - latest_.timestamp_ns;
  if (age_ns > std::chrono::nanoseconds(max_age).count()) {
    return IoError("camera " + name_ + " (" + grabber_->device() + "): newest frame is " +
                   std::to_string(age_ns / 1'000'000) + " ms old (limit " + std::to_string(max_age.count()) +
                   " ms): the camera stalled");
  }
  return CopyLocked(out);
}

Status Camera::ReadNext(uint64_t after, Frame* out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return latest_.sequence > after || failed_; })) {
    return IoError("camera " + name_ + " (" + grabber_->device() + "): no new frame within " +
                   std::to_string(timeout.count()) + " ms");
  }
  if (failed_) return Stopped();
  return CopyLocked(out);
}

CameraStats Camera::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::string Camera::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_ ? Stopped().message() : "";
}

}  // namespace embody::camera
