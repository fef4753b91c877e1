// A LeRobot dataset (v3.0 or v2.1, through src/data) as a TrainSource: ACT's delta timestamps
// (the current frame plus `chunk` actions, padded at episode ends), video frames decoded by the
// batch loader's worker threads, each with its own FrameReader from a pool.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "train/train_source.h"

namespace embody::data {
class Dataset;
class FrameReader;
}  // namespace embody::data

namespace embody::train {

// Which episodes: the dataset's own split column when it has one ("train" vs anything else),
// else embody's cluster metadata (the held-out cluster 6 is validation), else all are training.
enum class DatasetSplit { kTrain, kValidation, kAll };

class DatasetSource : public TrainSource {
 public:
  ~DatasetSource() override;
  const TrainFeatures& features() const override { return features_; }
  int64_t num_frames() const override { return static_cast<int64_t>(frames_.size()); }
  int num_episodes() const override { return episodes_; }
  std::string description() const override { return description_; }
  Status Get(int64_t index, int chunk, TrainSample* out) const override;
  Result<DatasetStats> Stats() const override;

 private:
  friend Result<std::unique_ptr<DatasetSource>> OpenDatasetSource(const std::string&, DatasetSplit);
  DatasetSource() = default;
  std::shared_ptr<const data::Dataset> dataset_;
  TrainFeatures features_;
  std::string description_;
  std::vector<int64_t> frames_;  // global dataset indices of the selected episodes
  int episodes_ = 0;
  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<data::FrameReader>> readers_;  // idle readers
};

Result<std::unique_ptr<DatasetSource>> OpenDatasetSource(const std::string& root, DatasetSplit split);

}  // namespace embody::train
