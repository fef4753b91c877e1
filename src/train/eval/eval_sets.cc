#include "train/eval/eval_sets.h"

namespace embody::train {

std::vector<EvalEpisode> MakeEvalSet(int num_clusters, int val_cluster, int per_cluster, int val_episodes,
                                     uint64_t seed_base) {
  std::vector<EvalEpisode> out;
  // Seed = base + cluster * 1000 + i: positions are independent of how many are asked for, so a
  // larger set extends a smaller one.
  for (int c = 0; c < num_clusters; ++c) {
    if (c == val_cluster) continue;
    for (int i = 0; i < per_cluster; ++i)
      out.push_back({"test", {seed_base + static_cast<uint64_t>(c) * 1000 + static_cast<uint64_t>(i), c, false}});
  }
  for (int i = 0; i < val_episodes; ++i)
    out.push_back({"val", {seed_base + static_cast<uint64_t>(val_cluster) * 1000 + static_cast<uint64_t>(i), val_cluster, false}});
  return out;
}

}  // namespace embody::train
