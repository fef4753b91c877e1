// Episodes held in memory (images uncompressed): the simulation expert's rollouts for tests and
// quick demos. A 96x128, 3-camera episode of ~180 ticks takes ~20 MB; without cameras, ~20 KB.
#pragma once

#include <string>
#include <vector>

#include "train/train_source.h"

namespace embody::train {

struct MemoryEpisode {
  std::vector<uint8_t> images;  // [frames][cameras][height][width][3]
  std::vector<float> states;    // [frames][state_dim]
  std::vector<float> env_states;  // [frames][env_state_dim]
  std::vector<float> actions;   // [frames][action_dim]
  int frames = 0;
  std::string task;  // the instruction every frame of the episode carries
};

class MemorySource : public TrainSource {
 public:
  MemorySource(TrainFeatures features, std::string description)
      : features_(std::move(features)), description_(std::move(description)) {}

  // REQUIRES: sizes match features() (checked: InvalidArgument naming the episode).
  Status Add(MemoryEpisode episode);

  const TrainFeatures& features() const override { return features_; }
  int64_t num_frames() const override { return starts_.empty() ? 0 : starts_.back(); }
  int num_episodes() const override { return static_cast<int>(episodes_.size()); }
  std::string description() const override { return description_; }
  Status Get(int64_t index, int chunk, TrainSample* out) const override;
  Result<DatasetStats> Stats() const override;

  const MemoryEpisode& episode(int i) const { return episodes_[static_cast<size_t>(i)]; }

 private:
  TrainFeatures features_;
  std::string description_;
  std::vector<MemoryEpisode> episodes_;
  std::vector<int64_t> starts_;  // starts_[i]: one past the last frame of episode i, cumulative
};

}  // namespace embody::train
