// Options and results of a training run, the same for every policy (ACT, SmolVLA): where
// checkpoints go, how many steps, batch size, logging, resume, and the per-step and per-checkpoint
// callbacks the CLI uses. No libtorch here.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace embody::train {

struct StepLog {
  int64_t step = 0, total = 0;
  double loss = 0, l1 = 0, kld = 0, grad_norm = 0;
  double steps_per_s = 0;     // over the steps of this process so far
  double data_wait = 0;       // fraction of wall time the trainer waited for batches
  double eta_s = 0;
};

struct CheckpointInfo {
  int64_t step = 0;
  std::string pretrained_dir;  // .../checkpoints/<step>/pretrained_model
  double val_l1 = -1;          // validation loss (ACT: eval-mode L1; SmolVLA: flow-matching MSE); < 0: none
};

struct TrainOptions {
  std::string output;          // run folder: checkpoints/ go under it
  int64_t steps = 100000;      // LeRobot's default
  int batch_size = 8;
  int64_t save_every = 20000;  // LeRobot's save_freq
  int64_t log_every = 100;
  uint64_t seed = 1000;        // LeRobot's default seed
  bool resume = false;         // continue from output/checkpoints/last
  std::string init_from;       // start from this pretrained_model's weights (fine-tuning)
  int threads = 0;             // libtorch intra-op threads (0: all cores)
  int workers = 2;             // batch-loading threads
  double grad_clip_norm = 10;
  // Stop after this many steps in this process, as if killed (tests of --resume); 0: run to `steps`.
  int64_t stop_after = 0;
  bool progress = true;        // a progress line on stderr
  // Frames of `validation` used for the validation loss at each checkpoint (0: all).
  int64_t val_frames = 512;
  // Frozen batch norms of a backbone trained from scratch (no --init-from, no --resume):
  // "data" sets their statistics from this many training frames before step 0
  // (CalibrateFrozenBatchNorms); 0 keeps LeRobot's identity buffers.
  int bn_init_frames = 64;
  std::function<void(const StepLog&)> on_log;            // every log_every steps
  std::function<Status(const CheckpointInfo&)> on_checkpoint;  // after each checkpoint is published
};

struct TrainResult {
  int64_t first_step = 0, last_step = 0;
  double seconds = 0, steps_per_s = 0, data_wait = 0;
  double final_loss = 0, final_l1 = 0;
  std::vector<CheckpointInfo> checkpoints;  // written by this process
};

}  // namespace embody::train
