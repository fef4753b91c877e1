// LeRobot's checkpoint layout, written atomically:
//
//   <output>/checkpoints/<step, 6 digits>/pretrained_model/
//       config.json, model.safetensors, train_config.json,
//       policy_preprocessor.json + policy_preprocessor_step_<3|5>_normalizer_processor.safetensors,
//       policy_postprocessor.json + policy_postprocessor_step_0_unnormalizer_processor.safetensors
//   <output>/checkpoints/<step>/training_state/
//       training_step.json, optimizer_state.safetensors, optimizer_param_groups.json,
//       rng_state.safetensors, scheduler_state.json (policies with a learning-rate schedule)
//   <output>/checkpoints/last -> <step>
//
// A checkpoint is assembled in "<step>.partial/" and renamed into place, then `last` is replaced
// by renaming a new link over it: a kill at any moment leaves either the previous or the new
// checkpoint complete, never a torn one. No libtorch here.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "io/json_file.h"
#include "train/train_source.h"

namespace embody::train {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// "020000" (LeRobot pads to at least 6 digits).
std::string StepName(int64_t step);
std::string CheckpointDir(const std::string& output, int64_t step);

// Writes config.json, model.safetensors, the processor files and train_config.json into `dir`
// (created). The processors follow config["type"]: ACT's (stats of `stats` for state and action,
// ImageNet mean/std for every camera as LeRobot's use_imagenet_stats, normalizer at step 3) or
// SmolVLA's (images not normalized, newline and tokenizer steps, normalizer at step 5).
Status WritePretrainedModel(const std::string& dir, const io::Json& config, const TrainFeatures& features,
                            const DatasetStats& stats, const NamedTensors& weights, const io::Json& train_config);

// Reads the state/action statistics back from a pretrained_model folder's normalizer file.
Result<DatasetStats> ReadStats(const std::string& pretrained_dir, const TrainFeatures& features);

struct TrainingState {
  int64_t step = 0;
  NamedTensors optimizer;       // "state.<i>.exp_avg", "state.<i>.exp_avg_sq", "state.<i>.step"
  io::Json param_groups;        // LeRobot's optimizer_param_groups.json (+ "param_names")
  NamedTensors rng;             // "torch_cpu" generator state (+ our own)
  io::Json scheduler;           // LeRobot's scheduler_state.json (LambdaLR's state); null: no scheduler
};
Status WriteTrainingState(const std::string& dir, const TrainingState& state);

// A resumed or initializing checkpoint must have been trained on the same features (cameras,
// image size, state and action widths) as the data: InvalidArgument naming `where` otherwise.
Status CheckCheckpointFeatures(const TrainFeatures& checkpoint, const TrainFeatures& data, const std::string& where);
// The tensors are copies (the files are closed on return).
Result<TrainingState> ReadTrainingState(const std::string& dir);

// Runs `write(staging_dir)` to fill "<output>/checkpoints/<step>.partial", then publishes it as
// checkpoints/<step> and points `last` at it.
Status PublishCheckpoint(const std::string& output, int64_t step,
                         const std::function<Status(const std::string& staging)>& write);

// The step `last` points at; NotFound when there is no checkpoint in `output`.
Result<int64_t> LastCheckpointStep(const std::string& output);
// Steps of every complete checkpoint under output/checkpoints, ascending.
std::vector<int64_t> ListCheckpoints(const std::string& output);

}  // namespace embody::train
