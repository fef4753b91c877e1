// Where training samples come from: a recorded LeRobot dataset (through src/data) or episodes
// held in memory (the simulation's scripted expert, for tests and quick demos). The trainer and
// the batch loader see only this interface.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/act_hparams.h"

namespace embody::train {

// One sample as LeRobot's dataset returns it for ACT (n_obs_steps 1, delta_timestamps
// action = [0, 1/fps, ..., (chunk-1)/fps]).
struct TrainSample {
  std::vector<uint8_t> images;         // [cameras][height][width][3], RGB, camera order
  std::vector<float> state;            // [state_dim], robot units
  std::vector<float> env_state;        // [env_state_dim] (observation.environment_state), may be empty
  std::vector<float> actions;          // [chunk][action_dim], robot units
  std::vector<uint8_t> action_is_pad;  // [chunk]: 1 where the chunk runs past the episode's end
  std::string task;                    // the episode's instruction (SmolVLA's language input); may be empty
};

// Per-feature statistics over every frame, as LeRobot's stats (mean, std, min, max, count).
struct FeatureStats {
  std::vector<float> mean, std, min, max;
  int64_t count = 0;
};
using DatasetStats = std::map<std::string, FeatureStats>;  // "observation.state", "action", ...

class TrainSource {
 public:
  virtual ~TrainSource() = default;

  virtual const TrainFeatures& features() const = 0;
  virtual int64_t num_frames() const = 0;
  virtual int num_episodes() const = 0;
  // A name for logs and train_config.json (a dataset path, "sim-expert:120 episodes").
  virtual std::string description() const = 0;

  // Frame `index` (0 .. num_frames-1, episodes back to back): its observation and the actions of
  // the next `chunk` ticks of its episode. Ticks past the episode's last frame repeat the last
  // action and are flagged in action_is_pad (LeRobot clamps the query to the episode and flags
  // the padded ones). Must be safe to call from several threads at once.
  virtual Status Get(int64_t index, int chunk, TrainSample* out) const = 0;

  // State and action statistics over all frames.
  virtual Result<DatasetStats> Stats() const = 0;
};

// Mean / std (population, as numpy's) / min / max of `rows` vectors of width `dim`.
FeatureStats ComputeStats(const float* values, int64_t rows, int dim);

}  // namespace embody::train
