#include "train/memory_source.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace embody::train {

FeatureStats ComputeStats(const float* values, int64_t rows, int dim) {
  FeatureStats s;
  s.count = rows;
  s.mean.assign(static_cast<size_t>(dim), 0.f);
  s.std.assign(static_cast<size_t>(dim), 0.f);
  s.min.assign(static_cast<size_t>(dim), 0.f);
  s.max.assign(static_cast<size_t>(dim), 0.f);
  for (int d = 0; d < dim; ++d) {
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (int64_t r = 0; r < rows; ++r) {
      const double v = values[r * dim + d];
      sum += v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const double mean = rows > 0 ? sum / static_cast<double>(rows) : 0;
    double var = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double e = values[r * dim + d] - mean;
      var += e * e;
    }
    var = rows > 0 ? var / static_cast<double>(rows) : 0;
    s.mean[d] = static_cast<float>(mean);
    s.std[d] = static_cast<float>(std::sqrt(var));
    s.min[d] = rows > 0 ? static_cast<float>(lo) : 0.f;
    s.max[d] = rows > 0 ? static_cast<float>(hi) : 0.f;
  }
  return s;
}

Status MemorySource::Add(MemoryEpisode e) {
  const std::string what = "episode " + std::to_string(episodes_.size());
  const size_t frame_bytes = features_.cameras.size() * static_cast<size_t>(features_.height) *
                             static_cast<size_t>(features_.width) * 3;
  if (e.frames < 1) return InvalidArgument(what + ": no frames");
  if (e.images.size() != frame_bytes * static_cast<size_t>(e.frames))
    return InvalidArgument(what + ": " + std::to_string(e.images.size()) + " image bytes, expected " +
                           std::to_string(frame_bytes * static_cast<size_t>(e.frames)));
  if (e.states.size() != static_cast<size_t>(features_.state_dim) * static_cast<size_t>(e.frames) ||
      e.actions.size() != static_cast<size_t>(features_.action_dim) * static_cast<size_t>(e.frames) ||
      e.env_states.size() != static_cast<size_t>(features_.env_state_dim) * static_cast<size_t>(e.frames))
    return InvalidArgument(what + ": state/environment state/action rows do not match its " + std::to_string(e.frames) + " frames");
  starts_.push_back(num_frames() + e.frames);
  episodes_.push_back(std::move(e));
  return Status::Ok();
}

Status MemorySource::Get(int64_t index, int chunk, TrainSample* out) const {
  if (index < 0 || index >= num_frames())
    return OutOfRange("frame " + std::to_string(index) + " of " + std::to_string(num_frames()));
  const size_t ep = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin());
  const int64_t first = ep == 0 ? 0 : starts_[ep - 1];
  const int t = static_cast<int>(index - first);
  const MemoryEpisode& e = episodes_[ep];
  const size_t frame_bytes = e.images.size() / static_cast<size_t>(e.frames);
  const int ed = features_.env_state_dim;
  out->env_state.assign(e.env_states.begin() + ed * t, e.env_states.begin() + ed * (t + 1));
  out->images.assign(e.images.begin() + static_cast<std::ptrdiff_t>(frame_bytes * t),
                     e.images.begin() + static_cast<std::ptrdiff_t>(frame_bytes * (t + 1)));
  const int sd = features_.state_dim, ad = features_.action_dim;
  out->state.assign(e.states.begin() + sd * t, e.states.begin() + sd * (t + 1));
  out->actions.resize(static_cast<size_t>(chunk) * ad);
  out->action_is_pad.resize(static_cast<size_t>(chunk));
  for (int k = 0; k < chunk; ++k) {
    const int src = std::min(t + k, e.frames - 1);
    std::memcpy(&out->actions[static_cast<size_t>(k) * ad], &e.actions[static_cast<size_t>(src) * ad],
                sizeof(float) * static_cast<size_t>(ad));
    out->action_is_pad[static_cast<size_t>(k)] = t + k >= e.frames;
  }
  out->task = e.task;
  return Status::Ok();
}

Result<DatasetStats> MemorySource::Stats() const {
  if (episodes_.empty()) return FailedPrecondition(description_ + ": no episodes");
  std::vector<float> states, env_states, actions;
  for (const MemoryEpisode& e : episodes_) {
    states.insert(states.end(), e.states.begin(), e.states.end());
    env_states.insert(env_states.end(), e.env_states.begin(), e.env_states.end());
    actions.insert(actions.end(), e.actions.begin(), e.actions.end());
  }
  DatasetStats s;
  if (features_.state_dim > 0)
    s["observation.state"] = ComputeStats(states.data(), num_frames(), features_.state_dim);
  if (features_.env_state_dim > 0)
    s["observation.environment_state"] = ComputeStats(env_states.data(), num_frames(), features_.env_state_dim);
  s["action"] = ComputeStats(actions.data(), num_frames(), features_.action_dim);
  return s;
}

}  // namespace embody::train
