#include "data/camera_worker.h"

#include <filesystem>

namespace embody::data {

CameraWorker::CameraWorker(int height, int width, int fps, VideoEncoderOptions options, int max_queued)
    : height_(height), width_(width), fps_(fps), max_queued_(std::max(1, max_queued)), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

CameraWorker::~CameraWorker() {
  Abort();
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CameraWorker::Begin(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  path_ = path;
  running_ = true;
  finishing_ = done_ = abort_ = false;
  status_ = Status::Ok();
  frames_ = 0;
  stats_ = ImageStatsBuilder();
  cv_.notify_all();
}

Status CameraWorker::Push(const uint8_t* rgb) {
  const size_t bytes = static_cast<size_t>(height_) * width_ * 3;
  std::unique_lock<std::mutex> lock(mu_);
  if (!status_.ok()) return status_;
  if (static_cast<int>(queue_.size()) >= max_queued_) {
    ++stalls_;
    cv_.wait(lock, [&] { return static_cast<int>(queue_.size()) < max_queued_ || !status_.ok(); });
    if (!status_.ok()) return status_;
  }
  std::vector<uint8_t> buf;
  if (!free_.empty()) {
    buf = std::move(free_.back());
    free_.pop_back();
  }
  lock.unlock();
  buf.assign(rgb, rgb + bytes);  // the copy happens outside the lock
  lock.lock();
  queue_.push_back(std::move(buf));
  cv_.notify_all();
  return Status::Ok();
}

Status CameraWorker::Finish(int64_t* frames, FeatureStats* stats) {
  std::unique_lock<std::mutex> lock(mu_);
  finishing_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return done_; });
  running_ = false;
  *frames = frames_;
  if (status_.ok() && frames_ > 0) *stats = stats_.Finish();
  return status_;
}

void CameraWorker::Abort() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_) return;
  abort_ = true;
  finishing_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return done_; });
  running_ = false;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

int64_t CameraWorker::stalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stalls_;
}
std::string CameraWorker::encoder_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return encoder_name_;
}

void CameraWorker::Run() {
  std::unique_ptr<VideoEncoder> enc;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return quit_ || (running_ && !done_ && (!queue_.empty() || finishing_)); });
    if (quit_) return;
    if (abort_) {
      while (!queue_.empty()) {
        free_.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (enc) {
        lock.unlock();
        enc->Finish().IgnoreError();  // the file is deleted; finishing keeps the encoder quiet
        enc.reset();
        lock.lock();
      }
      done_ = true;
      cv_.notify_all();
      continue;
    }
    if (!queue_.empty()) {
      std::vector<uint8_t> frame = std::move(queue_.front());
      queue_.pop_front();
      const bool failed = !status_.ok();
      const std::string path = path_;
      lock.unlock();
      Status s;
      if (!failed) {
        if (!enc) {
          auto e = VideoEncoder::Open(path, width_, height_, fps_, options_);
          if (e.ok()) enc = std::move(*e);
          else s = e.status();
        }
        if (s.ok()) s = enc->Add(frame.data());
        if (s.ok()) stats_.AddFrame(frame.data(), height_, width_);
      }
      lock.lock();
      if (!s.ok() && status_.ok()) status_ = s;
      if (s.ok() && !failed) ++frames_;
      if (enc && encoder_name_.empty()) encoder_name_ = enc->encoder_name();
      free_.push_back(std::move(frame));
      cv_.notify_all();  // a slot is free
      continue;
    }
    // finishing_ and the queue is empty
    Status s;
    if (enc) {
      lock.unlock();
      s = enc->Finish();
      enc.reset();
      lock.lock();
    }
    if (!s.ok() && status_.ok()) status_ = s;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace embody::data
