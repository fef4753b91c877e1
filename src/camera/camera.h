// A camera: one capture thread per device that always holds the newest frame, so the control
// loop reads it without waiting (LeRobot's read_latest) or waits for the next one (async_read).
//
// The device side is a FrameGrabber (V4L2, generated, file); Camera adds the thread, the
// newest-frame slot, frame ages and failure handling. A device that disappears (unplugged USB)
// ends the thread; every later read returns that error naming the camera and the device.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "camera/frame.h"
#include "core/status.h"

namespace embody::camera {

class FrameGrabber {
 public:
  virtual ~FrameGrabber() = default;
  // "/dev/video0", "generated", a file path: for messages.
  virtual const std::string& device() const = 0;
  // "MJPG 640x480 @ 30 fps, exposure fixed at 156, white balance fixed at 4600 K" and the like.
  virtual std::string Describe() const = 0;
  virtual int width() const = 0;
  virtual int height() const = 0;
  virtual double fps() const = 0;
  // Blocks until the next frame and writes it (RGB, timestamp) into *frame; `sequence` is the
  // Camera's. Errors: kDataLoss = this frame was bad (corrupt JPEG), the next may be fine;
  // kNotFound = the device is gone, capture cannot continue; anything else = a failure that the
  // Camera retries up to CameraOptions::max_consecutive_failures times.
  virtual Status Grab(Frame* frame) = 0;
};

struct CameraOptions {
  std::chrono::milliseconds warmup{3000};  // Start() fails if no frame arrives in this time
  int max_consecutive_failures = 10;       // then the capture thread stops (LeRobot: 10)
};

struct CameraStats {
  uint64_t frames = 0;         // frames captured
  uint64_t bad_frames = 0;     // dropped as corrupt (kDataLoss)
  uint64_t failures = 0;       // failed grabs (timeouts, I/O)
  uint64_t reads = 0;          // ReadLatest calls that returned a frame
  uint64_t repeated = 0;       // ... that returned a frame already read before
};

class Camera {
 public:
  // Starts the capture thread and waits for the first frame (options.warmup).
  static Result<std::unique_ptr<Camera>> Start(std::string name, std::unique_ptr<FrameGrabber> grabber,
                                               CameraOptions options = {});
  ~Camera();  // Stop()
  Camera(const Camera&) = delete;
  Camera& operator=(const Camera&) = delete;

  // Copies the newest frame into *out without waiting for a new one (reusing out's buffer: no
  // allocation once sized). Fails if the capture thread stopped (device gone: the message names
  // camera and device) or the newest frame is older than max_age (a stalled camera).
  // Thread-safe.
  Status ReadLatest(Frame* out, std::chrono::milliseconds max_age = std::chrono::milliseconds(500));
  // Waits up to `timeout` for a frame with sequence > after, then copies it (LeRobot's async_read).
  Status ReadNext(uint64_t after, Frame* out, std::chrono::milliseconds timeout);
  void Stop();

  const std::string& name() const { return name_; }
  const FrameGrabber& grabber() const { return *grabber_; }
  CameraStats stats() const;
  // Empty while capturing; the error that stopped the thread otherwise.
  std::string error() const;

 private:
  Camera(std::string name, std::unique_ptr<FrameGrabber> grabber, CameraOptions options);
  void Loop();
  Status CopyLocked(Frame* out);  // REQUIRES: mu_
  Status Stopped() const;         // REQUIRES: mu_

  std::string name_;
  std::unique_ptr<FrameGrabber> grabber_;
  CameraOptions options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Frame back_;    // written by the capture thread without the lock
  Frame latest_;  // swapped with back_ under the lock
  uint64_t last_read_ = 0;
  bool failed_ = false;
  Status error_;
  CameraStats stats_;
};

}  // namespace embody::camera
