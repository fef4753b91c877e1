// Records the simulated scripted expert (src/sim) into a LeRobot dataset through DatasetWriter:
// the study's practice of clusters, a held-out validation cluster and recovery episodes.
//
// Episode i (counting from the dataset's first episode, so --resume continues the pattern) uses
// cluster i % clusters, seed seed + i, and is a recovery episode when the running count of
// recovery * i steps up (0.2 -> every fifth). Recovery episodes are the simulation's recovery
// starts (the arm begins near the mug or just after a missed grasp, away from the bag) from which
// the expert recovers and completes the task. The held-out cluster's episodes get split "val",
// the others "train".
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "data/writer.h"
#include "sim/renderer.h"
#include "sim/task.h"

namespace embody::data {

struct SimRecordOptions {
  int episodes = 120;      // total episodes in the dataset when done (existing ones count)
  int clusters = 11;       // clusters 0 .. clusters-1 of the task's layout, in rotation
  int val_cluster = 6;     // held out: split "val"
  double recovery = 0.2;   // share of recovery episodes
  uint64_t seed = 0;
  std::string task = "put the tea bag in the mug";
};

struct SimRecordStats {
  int episodes = 0, successes = 0, recovery_episodes = 0;
  int64_t frames = 0;
  double wall_s = 0;        // everything: physics, rendering, recording
  double render_s = 0;      // physics + expert + rendering (the "robot" side)
  double add_frame_s = 0;   // time the control loop spent in AddFrame (copies, queueing)
  double commit_s = 0;      // EndEpisode (waiting for encoders, writing files)
};

// Spec of a dataset recorded from the task's three cameras at the renderer's size.
DatasetSpec SimDatasetSpec(const sim::TeaBagTask& task, int height, int width);

// Whether episode i is a recovery episode for the given share.
bool SimIsRecovery(int i, double share);

// Records episodes writer->num_episodes() .. options.episodes-1. progress(done, total) after
// each committed episode.
Status RecordSimEpisodes(const sim::TeaBagTask& task, sim::Renderer* renderer, DatasetWriter* writer,
                         const SimRecordOptions& options, const std::function<void(int, int)>& progress,
                         SimRecordStats* stats);

}  // namespace embody::data
