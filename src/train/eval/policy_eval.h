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
  std::string plan;                 // precision plan (ActOptions/SmolVlaOptions::plan); empty: f32
  std::string task = "put the tea bag in the mug";  // SmolVLA
  std::string tokenizer;            // SmolVLA
};

struct EvalEpisodeResult {
  std::string set;
  int cluster = 0;
  uint64_t seed = 0;
  bool success = false;
  double time_to_success = -1;
  std::string policy_error;
};

struct EvalSummary {
  std::string checkpoint, policy, format, mode, latency_profile, platform;
  double latency_ms = 0;  // median charged latency per inference (the measured one with "measured")
  int test_success = 0, test_total = 0, val_success = 0, val_total = 0;
  std::vector<EvalEpisodeResult> episodes;
  double rate(int s, int n) const { return n > 0 ? static_cast<double>(s) / n : 0; }
  double test() const { return rate(test_success, test_total); }
  double val() const { return rate(val_success, val_total); }
  double global() const { return rate(test_success + val_success, test_total + val_total); }
};

// Progress callback: (episodes done, total, the last result).
using EvalProgress = std::function<void(int, int, const EvalEpisodeResult&)>;

Result<EvalSummary> EvaluateCheckpoint(const std::string& checkpoint, const EvalOptions& options,
                                       const EvalProgress& progress = nullptr);

io::Json SummaryToJson(const EvalSummary& s, bool with_episodes = true);
Result<EvalSummary> SummaryFromJson(const io::Json& j, const std::string& where);

// "Xeon ... , 2 threads" style description of this machine, for the report's Platform column.
std::string PlatformName(int threads);

}  // namespace embody::train
