// One camera's background encoder: frames are queued by the control thread and encoded to the
// episode's staging MP4 on this worker's thread, which also gathers the image stats. Internal to
// the writer.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "data/stats.h"
#include "data/video.h"

namespace embody::data {

class CameraWorker {
 public:
  CameraWorker(int height, int width, int fps, VideoEncoderOptions options, int max_queued);
  ~CameraWorker();  // aborts any episode and joins the thread

  // Starts an episode writing to `path`. REQUIRES: no episode running.
  void Begin(const std::string& path);
  // Copies one frame into the queue; waits when the queue is full (counted in stalls()).
  // Returns the encoder's first error, if any.
  Status Push(const uint8_t* rgb);
  // Waits for the queue to drain, finishes the file; returns its status, frames and stats.
  Status Finish(int64_t* frames, FeatureStats* stats);
  // Drops queued frames and the partial file.
  void Abort();

  int64_t stalls() const;
  std::string encoder_name() const;

 private:
  void Run();
  const int height_, width_, fps_, max_queued_;
  const VideoEncoderOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<uint8_t>> queue_;
  std::vector<std::vector<uint8_t>> free_;  // recycled frame buffers
  std::string path_;
  bool running_ = false;   // an episode is open
  bool finishing_ = false; // Finish requested: encode what is queued, then close
  bool done_ = false;      // the worker finished (or failed) the episode
  bool abort_ = false, quit_ = false;
  Status status_;
  int64_t frames_ = 0, stalls_ = 0;
  std::string encoder_name_;
  ImageStatsBuilder stats_;
  std::thread thread_;
};

}  // namespace embody::data
