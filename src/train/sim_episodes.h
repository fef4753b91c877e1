// Training episodes straight from the simulation's scripted expert, rendered at a chosen size and
// held in memory: no dataset on disk, for tests and the quick demo. Episode i uses seed
// seed + i, the training clusters in turn (every cluster but the held-out validation one), and
// is a recovery episode (starting away from the bag) at `recovery_fraction` of the episodes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "train/memory_source.h"

namespace embody::train {

struct SimEpisodeOptions {
  int episodes = 20;
  int height = 96, width = 128;
  uint64_t seed = 0;
  double recovery_fraction = 0.2;
  bool successful_only = true;  // drop the expert's rare failures (LeRobot datasets are curated too)
  int max_attempts_factor = 2;  // give up after episodes * this rollouts
  bool cameras = true;     // render observation.images.{top,gripper,left}
  bool env_state = false;  // observation.environment_state: the bag's pose (privileged, sim::EnvState)
  bool validation_cluster_only = false;  // the held-out cluster only (validation loss)
  std::string task = "put the tea bag in the mug";  // every episode's instruction (as `embody record --sim`)
};

// Progress callback: (episodes kept, rollouts run).
using SimProgress = std::function<void(int, int)>;

Result<std::unique_ptr<MemorySource>> GenerateSimEpisodes(const SimEpisodeOptions& options,
                                                          const SimProgress& progress = nullptr);

}  // namespace embody::train
