// The training loop every policy shares (ACT, SmolVLA): batches from the BatchLoader in (seed,
// step) order, forward + backward, gradient clipping, AdamW with an optional learning-rate
// schedule, progress and log lines, checkpoints in LeRobot's layout (checkpoint_io.h) with the
// optimizer, scheduler and torch RNG state, and --resume from the last checkpoint. What differs
// per policy (the loss, the pretrained_model files, the validation loss, the schedule) comes in
// through LoopPolicy. Internal to src/train: this header pulls in libtorch.
#pragma once

#include <string>

#include <torch/torch.h>

#include "core/status.h"
#include "train/adamw.h"
#include "train/batch_loader.h"
#include "train/train_options.h"

namespace embody::train {

struct StepLoss {
  torch::Tensor loss;   // scalar, to backpropagate
  double l1 = 0, kld = 0;  // ACT's parts (0 for other policies)
};

class LoopPolicy {
 public:
  virtual ~LoopPolicy() = default;
  // The loss of one batch in training mode.
  virtual Result<StepLoss> Loss(const Batch& batch) = 0;
  // Writes the pretrained_model/ files into `dir` (created by the callee).
  virtual Status WritePretrained(const std::string& dir) = 0;
  // The validation loss at a checkpoint (< 0: none). Must not draw from torch's default generator
  // (a resumed run would diverge from an uninterrupted one).
  virtual Result<double> Validate() { return -1.0; }
  // The scheduler's learning-rate factor for the optimizer step taken after `step` steps.
  virtual double LrScale(int64_t /*step*/) const { return 1.0; }
  // LeRobot's scheduler_state.json at `step` (null: no scheduler, no file).
  virtual io::Json SchedulerState(int64_t /*step*/) const { return nullptr; }
  // Whether the progress line shows ACT's loss parts.
  virtual bool HasLossParts() const { return false; }
};

// Where a run starts: step 0 (dir empty) or the step and folder of output/checkpoints/last.
struct ResumePoint {
  int64_t step = 0;
  std::string dir;  // <output>/checkpoints/<step>
};
// Finds the checkpoint to resume from when options.resume is set (none yet: a fresh start).
// FailedPrecondition when that checkpoint already reached options.steps.
Result<ResumePoint> FindResumePoint(const TrainOptions& options);

// Restores AdamW's moments and the torch CPU generator from <resume.dir>/training_state.
Status RestoreTrainingState(const ResumePoint& resume, AdamW& optimizer);

// Sets libtorch's intra-op threads (0: every core).
void SetTorchThreads(int threads);

// Runs steps resume.step+1 .. options.steps (or options.stop_after of them). `train_config` goes
// into every pretrained_model/train_config.json.
Result<TrainResult> RunTrainLoop(const TrainSource& source, int chunk, const TrainOptions& options,
                                 const ResumePoint& resume, AdamW& optimizer, torch::nn::Module& module,
                                 LoopPolicy& policy);

// "libtorch 2.10" for train_config.json.
std::string TorchVersion();

}  // namespace embody::train
