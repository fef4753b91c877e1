// Trains LeRobot's ACT in C++ (libtorch) exactly as lerobot-train does with the ACT preset:
// AdamW (betas 0.9/0.999, eps 1e-8, weight decay on every parameter) with the backbone in its own
// parameter group and learning rate, gradient norm clipped to 10, no scheduler, L1 + kl_weight * KL
// on MEAN_STD-normalized actions with action_is_pad masks, images normalized with ImageNet stats.
// Checkpoints in LeRobot's layout (checkpoint_io.h) every save_every steps and at the end;
// --resume continues bit-for-bit in data order, optimizer and RNG state.
//
// This header does not include libtorch; only act_trainer.cc and act_net.cc do.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/act_hparams.h"
#include "train/train_source.h"

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
  double val_l1 = -1;          // eval-mode L1 on the validation source (< 0: none given)
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

// `validation` (optional) gives the validation loss at each checkpoint. Errors name the output
// folder, checkpoint file or dataset frame involved.
Result<TrainResult> TrainAct(const TrainSource& source, const ActHparams& hparams, const TrainOptions& options,
                             const TrainSource* validation = nullptr);

// The training graph in eval mode on one observation (the parity check against embody's
// runtime): loads `pretrained_dir`, normalizes like LeRobot's preprocessor, returns the chunk
// [chunk_size * action_dim] in robot units and (if non-null) normalized.
Result<std::vector<float>> PredictWithTrainingGraph(const std::string& pretrained_dir,
                                                    const std::vector<const uint8_t*>& images, const float* state,
                                                    std::vector<float>* normalized = nullptr);

// Wall time of one training step (forward, backward, AdamW) of a fresh model on random inputs:
// the speed measurement, independent of any dataset. Returns the median seconds per step.
Result<double> BenchTrainStep(const ActHparams& hparams, const TrainFeatures& features, int batch_size, int steps,
                              int threads);

}  // namespace embody::train
