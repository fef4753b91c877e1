// Trains LeRobot's SmolVLA in C++ (libtorch) as lerobot-train does with SmolVLA's presets: AdamW
// (betas 0.9/0.95, eps 1e-8, weight decay 1e-10) over the trainable parameters, gradient norm
// clipped to 10, LeRobot's cosine decay with linear warmup (both auto-scaled to short runs), the
// flow-matching loss on MEAN_STD-normalized state and actions zero-padded to max_state_dim /
// max_action_dim, images resized with padding to the vision size in [-1, 1], the task string
// tokenized by the SmolVLM2 tokenizer. The loop, checkpoints and --resume are train_loop's (shared
// with ACT); a checkpoint also holds vlm_config.json and tokenizer/, so `embody infer` and
// `embody eval` load it as is.
//
// This header does not include libtorch; only the .cc files do.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "train/smolvla_hparams.h"
#include "train/train_options.h"
#include "train/train_source.h"

namespace embody::train {

// The SmolVLM2 tokenizer files beside the repository (README: ../shared/data/).
inline constexpr const char* kDefaultTokenizerDir = "../shared/data/smolvlm2-tokenizer";

// `tokenizer_dir`: a folder with tokenizer.json (copied into every checkpoint's tokenizer/).
// `validation` (optional) gives the flow-matching loss on its frames at each checkpoint (fixed
// noise and times, so checkpoints compare). Errors name the output folder, file or frame involved.
Result<TrainResult> TrainSmolVla(const TrainSource& source, const SmolVlaHparams& hparams, const TrainOptions& options,
                                 const std::string& tokenizer_dir, const TrainSource* validation = nullptr);

struct SmolVlaChunk {
  std::vector<float> normalized;  // [chunk][max_action_dim]
  std::vector<float> actions;     // [chunk][action_dim], robot units
};

// The training graph's own sampling (sample_actions) on one observation: loads `pretrained_dir`
// (its tokenizer/ too), preprocesses like LeRobot's policy, and integrates from `noise`
// ([chunk * max_action_dim]). images: one RGB frame per camera at the checkpoint's size.
Result<SmolVlaChunk> SampleSmolVlaWithTrainingGraph(const std::string& pretrained_dir,
                                                    const std::vector<const uint8_t*>& images, const float* state,
                                                    const std::string& task, const std::vector<float>& noise);

// Median wall time of one training step (forward, backward, AdamW) of a fresh model on random
// inputs at the features' camera count and the backbone's image size.
Result<double> BenchSmolVlaTrainStep(const SmolVlaHparams& hparams, const TrainFeatures& features,
                                     const std::string& tokenizer_dir, int batch_size, int steps, int threads);

// LeRobot's CosineDecayWithWarmupSchedulerConfig factor for the step after `step` steps, with
// warmup and decay scaled down when `total_steps` < decay steps.
double CosineDecayWithWarmup(const SmolVlaHparams& h, int64_t total_steps, int64_t step);

}  // namespace embody::train
