// The result of one evaluation run (`embody eval`) and its JSON form: what `embody report` reads
// and what `embody train --select-by success` compares. Kept apart from policy_eval.h, which pulls
// in the inference runtime, so that embody-train (libtorch, its own oneDNN: src/cli/sibling.h) can
// read eval results without linking the runtime.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"

namespace embody::train {

struct EvalEpisodeResult {
  std::string set;
  int cluster = 0;
  uint64_t seed = 0;
  bool success = false;
  double time_to_success = -1;
  std::string policy_error;
  double max_bag_lift = 0;  // metres above the bag's start height, the highest it rose
};

// A failed episode whose bag never rose this high was a missed grasp (the bag lies 1.5 cm high;
// a carried bag rises more than 10 cm); above it, the bag was carried and then dropped or misplaced.
inline constexpr double kLiftedBagMetres = 0.03;

enum class EpisodeFailure { kNone, kMissedGrasp, kDroppedOrMisplaced };
EpisodeFailure FailureOf(const EvalEpisodeResult& e);
const char* FailureName(EpisodeFailure f);  // "missed grasp", "dropped or misplaced", "none"

struct EvalSummary {
  std::string checkpoint, policy, format, mode, latency_profile, platform;
  double latency_ms = 0;  // median charged latency per inference (the measured one with "measured")
  int test_success = 0, test_total = 0, val_success = 0, val_total = 0;
  std::vector<EvalEpisodeResult> episodes;
  double rate(int s, int n) const { return n > 0 ? static_cast<double>(s) / n : 0; }
  double test() const { return rate(test_success, test_total); }
  double val() const { return rate(val_success, val_total); }
  double global() const { return rate(test_success + val_success, test_total + val_total); }
  // Failures by kind, from the episodes (0 when read from JSON without them).
  int count(EpisodeFailure f) const;
  int missed_grasps() const { return count(EpisodeFailure::kMissedGrasp); }
  int dropped_or_misplaced() const { return count(EpisodeFailure::kDroppedOrMisplaced); }
};

io::Json SummaryToJson(const EvalSummary& s, bool with_episodes = true);
Result<EvalSummary> SummaryFromJson(const io::Json& j, const std::string& where);

}  // namespace embody::train
