// The study's evaluation episodes in the simulation: a test set of `per_cluster` bag positions in
// each training cluster (2 x 10 = 20 by default), a validation set of `val_episodes` positions in
// the held-out cluster (10), and "global" over both (30). Seeds start at kEvalSeedBase, far from
// the seeds recordings and GenerateSimEpisodes use (0, 1, 2, ...), so no evaluation position is
// a training position.
#pragma once

#include <string>
#include <vector>

#include "sim/episode.h"

namespace embody::train {

inline constexpr uint64_t kEvalSeedBase = 1000000;

struct EvalEpisode {
  std::string set;  // "test" or "val"
  sim::EpisodeSpec spec;
};

// REQUIRES: 0 <= val_cluster < num_clusters.
std::vector<EvalEpisode> MakeEvalSet(int num_clusters, int val_cluster, int per_cluster, int val_episodes,
                                     uint64_t seed_base = kEvalSeedBase);

}  // namespace embody::train
