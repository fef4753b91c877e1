// Trains LeRobot's ACT in C++ (libtorch) exactly as lerobot-train does with the ACT preset:
// AdamW (betas 0.9/0.999, eps 1e-8, weight decay on every parameter) with the backbone in its own
// parameter group and learning rate, gradient norm clipped to 10, no scheduler, L1 + kl_weight * KL
// on MEAN_STD-normalized actions with action_is_pad masks, images normalized with ImageNet stats.
// Checkpoints in LeRobot's layout (checkpoint_io.h) every save_every steps and at the end;
// --resume continues bit-for-bit in data order, optimizer and RNG state.
//
// This header does not include libtorch; only act_trainer.cc and act_net.cc do.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "train/act_hparams.h"
#include "train/train_options.h"
#include "train/train_source.h"

namespace embody::train {

// `validation` (optional) gives the validation loss at each checkpoint. Errors name the output
// folder, checkpoint file or dataset frame involved.
Result<TrainResult> TrainAct(const TrainSource& source, const ActHparams& hparams, const TrainOptions& options,
                             const TrainSource* validation = nullptr);

// The training graph in eval mode on one observation (the parity check against embody's
// runtime): loads `pretrained_dir`, normalizes like LeRobot's preprocessor, returns the chunk
// [chunk_size * action_dim] in robot units and (if non-null) normalized. `env_state` is required
// iff the checkpoint has observation.environment_state.
Result<std::vector<float>> PredictWithTrainingGraph(const std::string& pretrained_dir,
                                                    const std::vector<const uint8_t*>& images, const float* state,
                                                    std::vector<float>* normalized = nullptr,
                                                    const float* env_state = nullptr);

// Wall time of one training step (forward, backward, AdamW) of a fresh model on random inputs:
// the speed measurement, independent of any dataset. Medians over `steps` steps, whole step and
// each phase (the phases' medians need not add up to the step's).
struct TrainStepTimes {
  double step = 0, forward = 0, backward = 0, optimizer = 0;  // seconds
};
Result<TrainStepTimes> BenchTrainStep(const ActHparams& hparams, const TrainFeatures& features, int batch_size,
                                      int steps, int threads);

}  // namespace embody::train
