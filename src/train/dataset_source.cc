#include "train/dataset_source.h"

#include <algorithm>

#include "data/reader.h"

namespace embody::train {

DatasetSource::~DatasetSource() = default;

Result<std::unique_ptr<DatasetSource>> OpenDatasetSource(const std::string& root, DatasetSplit split) {
  EMBODY_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(root));
  auto s = std::unique_ptr<DatasetSource>(new DatasetSource());
  const data::DatasetInfo& info = ds->info();
  TrainFeatures& f = s->features_;
  f.fps = info.fps;
  for (const std::string& cam : info.camera_keys()) {
    const data::Feature* feat = info.Find(cam);
    if (!feat || feat->shape.size() != 3 || feat->shape[2] != 3)
      return InvalidArgument(root + "/meta/info.json: " + cam + ": expected shape [height, width, 3]");
    if (!f.cameras.empty() && (feat->shape[0] != f.height || feat->shape[1] != f.width))
      return InvalidArgument(root + ": " + cam + ": every camera must have the same size (ACT stacks them)");
    f.cameras.push_back(cam);
    f.height = static_cast<int>(feat->shape[0]);
    f.width = static_cast<int>(feat->shape[1]);
  }
  if (const data::Feature* st = info.Find("observation.state")) f.state_dim = static_cast<int>(st->shape.at(0));
  // As LeRobot's ACT: an environment state in the dataset is a policy input.
  if (const data::Feature* env = info.Find("observation.environment_state")) {
    if (env->shape.size() != 1)
      return InvalidArgument(root + "/meta/info.json: observation.environment_state: expected shape [dim]");
    f.env_state_dim = static_cast<int>(env->shape[0]);
  }
  const data::Feature* act = info.Find("action");
  if (!act || act->shape.size() != 1) return InvalidArgument(root + "/meta/info.json: no 1-D 'action' feature");
  f.action_dim = static_cast<int>(act->shape[0]);

  const auto& eps = ds->episodes();
  const bool has_split = std::any_of(eps.begin(), eps.end(), [](const data::EpisodeRecord& e) { return !e.split.empty(); });
  const bool has_cluster = std::any_of(eps.begin(), eps.end(), [](const data::EpisodeRecord& e) { return e.cluster >= 0; });
  for (const data::EpisodeRecord& e : eps) {
    bool is_val = false;
    if (has_split) is_val = e.split != "train";
    else if (has_cluster) is_val = e.cluster == 6;  // sim::kValidationCluster, the study's held-out cluster
    const bool take = split == DatasetSplit::kAll || (split == DatasetSplit::kValidation) == is_val;
    if (!take) continue;
    for (int64_t i = e.from; i < e.to; ++i) s->frames_.push_back(i);
    ++s->episodes_;
  }
  const char* which = split == DatasetSplit::kTrain ? "train" : split == DatasetSplit::kValidation ? "validation" : "all";
  s->description_ = root + " (" + which + ": " + std::to_string(s->episodes_) + " episodes)";
  s->dataset_ = std::move(ds);
  return s;
}

Status DatasetSource::Get(int64_t index, int chunk, TrainSample* out) const {
  if (index < 0 || index >= num_frames()) return OutOfRange(description_ + ": frame " + std::to_string(index));
  std::unique_ptr<data::FrameReader> reader;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!readers_.empty()) {
      reader = std::move(readers_.back());
      readers_.pop_back();
    }
  }
  if (!reader) reader = dataset_->NewFrameReader();
  data::SampleRequest req;
  for (int k = 0; k < chunk; ++k) req.delta_indices["action"].push_back(k);
  auto sample = reader->Get(frames_[static_cast<size_t>(index)], req);
  {
    std::lock_guard<std::mutex> lock(mu_);
    readers_.push_back(std::move(reader));
  }
  if (!sample.ok()) return sample.status();
  const data::Sample& s = *sample;
  out->images.clear();
  for (const std::string& cam : features_.cameras) {
    auto it = s.images.find(cam);
    if (it == s.images.end() || it->second.empty()) return DataLoss(description_ + ": no image for " + cam);
    const io::Image& img = it->second[0];
    if (img.height != features_.height || img.width != features_.width)
      return DataLoss(description_ + ": " + cam + " decoded at " + std::to_string(img.height) + "x" +
                      std::to_string(img.width) + ", info.json says " + std::to_string(features_.height) + "x" +
                      std::to_string(features_.width));
    out->images.insert(out->images.end(), img.pixels.begin(), img.pixels.end());
  }
  if (features_.state_dim > 0) out->state = s.values.at("observation.state");
  if (features_.env_state_dim > 0) out->env_state = s.values.at("observation.environment_state");
  out->actions = s.values.at("action");
  out->action_is_pad = s.is_pad.at("action_is_pad");
  out->task = s.task;
  return Status::Ok();
}

Result<DatasetStats> DatasetSource::Stats() const {
  DatasetStats out;
  std::vector<std::string> keys = {"action"};
  if (features_.state_dim > 0) keys.push_back("observation.state");
  if (features_.env_state_dim > 0) keys.push_back("observation.environment_state");
  for (const std::string& key : keys) {
    auto it = dataset_->stats().find(key);
    if (it == dataset_->stats().end()) return DataLoss(dataset_->root() + "/meta/stats.json: no stats for " + key);
    FeatureStats& f = out[key];
    auto cp = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    f.mean = cp(it->second.mean);
    f.std = cp(it->second.std);
    f.min = cp(it->second.min);
    f.max = cp(it->second.max);
    f.count = it->second.count;
  }
  return out;
}

}  // namespace embody::train
