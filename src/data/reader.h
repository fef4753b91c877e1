// Dataset: reads a LeRobot dataset (v3.0, and v2.1) for training, viewing and checking.
//
// Open() reads the metadata and every numeric column (action, observation.state, indices,
// timestamps: small) into memory and validates their consistency; images are decoded on demand
// by a FrameReader. A Dataset is immutable after Open and safe to share between threads; each
// thread (or data-loader worker) makes its own FrameReader, which holds open video decoders.
//
// Errors name the file, the episode and the field: kNotFound (missing file), kDataLoss
// (corrupt or inconsistent: truncated parquet, frame counts that disagree, timestamps off fps),
// kOutOfRange (episode/frame index past the end, or a video frame further than tolerance_s from
// its timestamp). Nothing in here aborts on bad input.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/info.h"
#include "data/stats.h"
#include "data/table.h"
#include "io/image.h"

namespace embody::data {

// Where an episode's frames of one camera live.
struct VideoRef {
  std::string path;          // absolute
  int64_t chunk = 0, file = 0;
  double from_s = 0, to_s = 0;  // the episode's span inside the file (v2.1: 0 .. length/fps)
};

struct EpisodeRecord {
  int64_t index = 0;
  int64_t length = 0;            // frames
  int64_t from = 0, to = 0;      // global frame index range [from, to)
  std::vector<std::string> tasks;
  std::string data_path;         // absolute path of the parquet holding its rows
  std::map<std::string, VideoRef> videos;  // video key -> file and span
  // embody's extra metadata (defaults when the dataset was not recorded by embody)
  int cluster = -1;
  bool recovery = false;
  std::string split;
  int success = -1;
};

struct OpenOptions {
  double tolerance_s = 1e-4;  // LeRobot's default, for timestamps and video frames
  // Check that every frame's timestamp is frame_index / fps within tolerance_s (LeRobot v2.1
  // checks this at load; v3.0 does not). Violations fail Open with the episode and frame.
  bool check_timestamps = true;
};

class FrameReader;

class Dataset {
 public:
  static Result<std::unique_ptr<Dataset>> Open(const std::string& root, const OpenOptions& options = {});

  const std::string& root() const { return root_; }
  const DatasetInfo& info() const { return info_; }
  int fps() const { return info_.fps; }
  int64_t num_episodes() const { return static_cast<int64_t>(episodes_.size()); }
  int64_t num_frames() const { return info_.total_frames; }
  const std::vector<EpisodeRecord>& episodes() const { return episodes_; }
  const std::vector<std::string>& tasks() const { return tasks_; }  // by task_index
  const StatsMap& stats() const { return stats_; }  // meta/stats.json (v2.1: aggregated per-episode stats)
  const OpenOptions& options() const { return options_; }

  // Numeric features present in the data files (action, observation.state, ..., the defaults).
  std::vector<std::string> numeric_keys() const;
  // Frame `index` (global, 0 .. num_frames-1) of numeric feature `key`: numel() values.
  // REQUIRES: index in range and key in numeric_keys(); see Value() for the checked form.
  const float* Row(const std::string& key, int64_t index) const;
  Result<std::vector<float>> Value(const std::string& key, int64_t episode, int64_t frame) const;
  // Global index of frame `frame` of `episode`; kOutOfRange when either is past the end.
  Result<int64_t> GlobalIndex(int64_t episode, int64_t frame) const;
  // Episode holding global frame `index`.
  Result<int64_t> EpisodeOf(int64_t index) const;

  std::unique_ptr<FrameReader> NewFrameReader(int decoder_threads = 1) const;

 private:
  friend class FrameReader;
  Dataset() = default;
  Status LoadV3();
  Status LoadV21();
  Status LoadData(const std::vector<std::string>& files);
  Status Validate();

  std::string root_;
  OpenOptions options_;
  DatasetInfo info_;
  std::vector<EpisodeRecord> episodes_;
  std::vector<std::string> tasks_;
  StatsMap stats_;
  // numeric columns as float32, row-major: key -> (numel, values of all frames)
  std::map<std::string, std::pair<int64_t, std::vector<float>>> columns_;
  std::vector<int64_t> task_index_;  // per frame
};

// A training/viewing sample: what LeRobotDataset.__getitem__ returns, in C++.
struct SampleRequest {
  // Offsets in frames per key (LeRobot's delta_indices: ACT action 0..chunk-1). Keys without an
  // entry give the current frame only. Out-of-episode offsets are clamped to the episode's edge
  // frames and flagged in is_pad, exactly as LeRobot.
  std::map<std::string, std::vector<int>> delta_indices;
  bool decode_images = true;  // decode camera frames (the current frame, or per delta)
};

struct Sample {
  int64_t index = 0, episode = 0, frame = 0, task_index = 0;
  float timestamp = 0;
  std::string task;
  // key -> values: numel() for plain keys; deltas x numel() (row-major) for keys with deltas.
  std::map<std::string, std::vector<float>> values;
  // "<key>_is_pad" -> one flag per delta (1 = outside the episode).
  std::map<std::string, std::vector<uint8_t>> is_pad;
  // camera key -> images (one, or one per delta), HWC RGB uint8.
  std::map<std::string, std::vector<io::Image>> images;
};

// Per-thread random access with open video decoders. Not thread-safe; cheap to create.
// REQUIRES: the Dataset outlives the reader.
class FrameReader {
 public:
  FrameReader(const Dataset& dataset, int decoder_threads);
  ~FrameReader();
  // Sample at global frame `index`.
  Result<Sample> Get(int64_t index, const SampleRequest& request = {});
  // Camera image of frame `frame` of `episode` (video decoded at from_s + timestamp, or the
  // PNG embedded in an image feature).
  Result<io::Image> Image(const std::string& camera_key, int64_t episode, int64_t frame);

 private:
  struct Decoders;
  const Dataset& ds_;
  int threads_;
  std::unique_ptr<Decoders> dec_;
};

}  // namespace embody::data
