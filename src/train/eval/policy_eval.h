// Success rate of a checkpoint (ACT or SmolVLA, embody's inference runtime) on the evaluation
// episodes of eval_sets.h, driven through runtime/async's simulated-time runner: synchronous or
// asynchronous execution with a latency profile, the cameras rendered at the checkpoint's size.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "io/json_file.h"
#include "runtime/async/latency_profile.h"
#include "train/eval/eval_sets.h"
#include "train/eval/eval_summary.h"

namespace embody::train {

struct EvalOptions {
  bool async = false;               // sync: LeRobot's select_action loop; async: chunk_size_threshold
  std::string latency = "measured";  // runtime::ParseLatencyProfile text: measured, 250, x2, imx95-act
  double threshold = 0.5;           // async chunk_size_threshold
  int per_cluster = 2;              // test positions per training cluster
  int val_episodes = 10;            // positions in the held-out cluster
  uint64_t seed_base = kEvalSeedBase;
  double max_seconds = 15;          // episode time limit (simulated)
  int threads = 0;                  // inference threads (0: all cores)
  // ACT's temporal ensembling in sync mode (an inference every tick): < 0 takes the checkpoint's
  // temporal_ensemble_coeff (LeRobot's select_action does), 0 turns it off, > 0 sets it.
  double temporal_ensemble = -1;
  std::string plan;                 // precision plan (ActOptions/SmolVlaOptions::plan); empty: f32
  std::string task = "put the tea bag in the mug";  // SmolVLA
  std::string tokenizer;            // SmolVLA
};

// Progress callback: (episodes done, total, the last result).
using EvalProgress = std::function<void(int, int, const EvalEpisodeResult&)>;

Result<EvalSummary> EvaluateCheckpoint(const std::string& checkpoint, const EvalOptions& options,
                                       const EvalProgress& progress = nullptr);

// "Xeon ... , 2 threads" style description of this machine, for the report's Platform column.
std::string PlatformName(int threads);

}  // namespace embody::train
