// DatasetWriter: records a LeRobot v3.0 dataset one frame at a time.
//
// Built for a control loop: AddFrame copies the frame and returns; each camera's frames are
// encoded to video by that camera's own background thread, so image encoding never runs on the
// caller's thread. EndEpisode commits the episode: it waits for the encoders, then rewrites the
// current data/episodes parquet files and concatenates the videos, each through a temporary file
// and a rename, and writes meta/info.json last. So at any moment (kill -9, power loss, a full
// disk) the dataset on disk is the last committed episode's, readable by LeRobot and by
// data::Dataset; at most the episode being recorded is lost. Resume() reopens such a dataset,
// drops anything a crash left half-written, and continues with new files as LeRobot's
// --resume does.
//
// Thread safety: one thread drives a writer (BeginEpisode/AddFrame/EndEpisode/Close); the
// encoder threads are internal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/info.h"
#include "data/stats.h"
#include "data/video.h"

namespace embody::data {

// What a new dataset records.
struct DatasetSpec {
  int fps = 30;
  std::string robot_type = "so101_follower";
  // observation.state and action names, e.g. "shoulder_pan.pos" ... "gripper.pos".
  std::vector<std::string> state_names, action_names;
  // Cameras, in order: stored as video features "observation.images.<name>", HWC RGB uint8.
  std::vector<CameraShape> cameras;
};

struct WriterOptions {
  VideoEncoderOptions video;  // libsvtav1 crf 30 gop 2 preset 12 (LeRobot's defaults), x264 fallback
  int64_t chunks_size = 1000;
  int64_t data_files_size_in_mb = 100;
  int64_t video_files_size_in_mb = 200;
  // Frames each camera may have queued for encoding before AddFrame waits for its encoder
  // (memory bound: frames x H x W x 3 bytes per camera). Waiting is counted in stalls().
  int max_queued_frames = 256;
};

// Per-episode metadata beyond LeRobot's (stored as embody/* columns of meta/episodes).
struct EpisodeMeta {
  std::string task = "put the tea bag in the mug";
  int cluster = -1;        // workspace cluster, -1 = unknown
  bool recovery = false;   // a recovery demonstration
  std::string split;       // "train", "val", "test" or "" (decided later by `embody dataset split`)
  int success = -1;        // 1 / 0 when known (simulation), -1 unknown
};

// One frame. Pointers are read during AddFrame only (the writer copies).
struct FrameInput {
  const float* state = nullptr;   // state_names.size() values
  const float* action = nullptr;  // action_names.size() values
  std::vector<const uint8_t*> images;  // one per camera in DatasetSpec order: height x width x 3 RGB
};

struct EpisodeSummary {
  int64_t episode_index = 0;
  int64_t frames = 0;
  double commit_ms = 0;  // time EndEpisode took (waiting for encoders + writing)
};

class DatasetWriter {
 public:
  // Creates a new dataset in `root` (must not exist, or be an empty directory) and writes
  // meta/info.json. kInvalidArgument for a bad spec (no cameras is fine; odd sizes are not),
  // kFailedPrecondition if root holds files.
  static Result<std::unique_ptr<DatasetWriter>> Create(const std::string& root, const DatasetSpec& spec,
                                                       const WriterOptions& options = {});
  // Reopens a dataset this writer (or LeRobot) recorded, for more episodes: validates it, drops
  // uncommitted leftovers of a crash (staging videos, data rows and episode rows past info.json's
  // totals), and starts new data/episodes/video files for the next episode.
  static Result<std::unique_ptr<DatasetWriter>> Resume(const std::string& root, const WriterOptions& options = {});
  // Discards an open episode (does not commit it), joins the encoder threads.
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // Starts episode num_episodes(). REQUIRES: no episode open.
  Status BeginEpisode(const EpisodeMeta& meta);
  // Appends one frame (timestamp = frame_index / fps). Returns without encoding; waits only when
  // a camera's queue is full (see WriterOptions::max_queued_frames). REQUIRES: episode open.
  Status AddFrame(const FrameInput& frame);
  // Commits the open episode (see the class comment). An episode needs >= 1 frame. On error
  // (e.g. kIoError: disk full) the episode is dropped, the dataset stays at its last committed
  // state, and the writer can start the next episode.
  Result<EpisodeSummary> EndEpisode();
  // Drops the open episode.
  void DiscardEpisode();
  // Sets the open episode's success flag (known only when it ends). REQUIRES: episode open.
  void SetEpisodeSuccess(int success);
  // Commits nothing; releases files. Idempotent. REQUIRES: no episode open (else it is dropped).
  Status Close();

  const std::string& root() const { return root_; }
  const DatasetInfo& info() const { return info_; }
  int64_t num_episodes() const { return info_.total_episodes; }
  int64_t total_frames() const { return info_.total_frames; }
  bool episode_open() const;
  int64_t stalls() const;  // AddFrame calls that had to wait for an encoder
  std::string encoder_name() const;  // codec actually used ("libsvtav1", "libx264"), "" before a frame

 private:
  struct State;
  DatasetWriter();
  Status CommitEpisode(EpisodeSummary* summary);
  std::string root_;
  DatasetInfo info_;
  WriterOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace embody::data
