// embody quantize: per-block precision for a LeRobot checkpoint, as a self-contained model.
//
// Quantize() loads the checkpoint with a precision plan while capturing every op's packed
// weights, runs calibration inputs through it (observers record each op's activation range for
// optional static scales), writes the quantized checkpoint (models/common/quantized_store.h),
// and measures what the plan costs in accuracy: for each quantized block alone and for the whole
// plan, the relative error of every block's output and the action error in units of the action
// std against the f32 model on the same inputs (and, for SmolVLA, the error after each
// denoising step of the expert).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/ops.h"
#include "models/common/quantized_store.h"

namespace embody::quantize {

struct QuantizeRequest {
  std::string checkpoint;  // a LeRobot pretrained_model folder (ACT or SmolVLA)
  std::string output;      // the folder to write (replaced atomically)
  std::string plan;        // e.g. "backbone=int8,encoder=int8"
  // Calibration inputs: `seeded_samples` seeded observations (docs/formats/seeded-weights.md),
  // calibrating and evaluated on the same inputs; or, when `calib_dataset` names a LeRobot
  // dataset root, `dataset_samples` frames spread over it for calibration and as many other
  // frames, each halfway between two calibration frames, for the sensitivity report (so static
  // activation scales are judged on frames they were not fitted to).
  int seeded_samples = 4;
  std::string calib_dataset;
  int dataset_samples = 8;
  bool static_activations = false;  // store calibrated activation scales and use them
  bool report = true;               // run the sensitivity analysis
  kernels::Backend backend = kernels::Backend::kOneDnn;
  int threads = 0;
  std::string tokenizer;            // SmolVLA: tokenizer.json if not in the checkpoint
  std::string task = "put the tea bag in the mug";
};

// The error one precision configuration introduces, against f32 on the same inputs.
struct Sensitivity {
  std::string config;                           // "backbone=int8" (one block) or the whole plan
  std::map<std::string, double> block_rel_err;  // ||q - f|| / ||f|| of each block's output
  double action_max_std = 0;                    // max |q - f| over the chunk, in action std units
  double action_mean_std = 0;                   // mean |q - f|
  std::vector<double> expert_step_rel_err;      // SmolVLA: after each denoising step
  double latency_ms = 0;                        // median over the samples (noisy: not a benchmark)
};

struct QuantizeResult {
  std::string policy_type, plan;
  models::QuantizeOutput files;
  int64_t source_model_bytes = 0;
  std::map<std::string, std::map<std::string, int>> census;  // block -> format -> ops
  double f32_latency_ms = 0;
  std::vector<Sensitivity> sensitivity;  // per quantized block, then the plan
};

// progress(stage, done, total) is called as work advances.
using ProgressFn = std::function<void(const std::string& stage, int done, int total)>;
Result<QuantizeResult> Quantize(const QuantizeRequest& request, const ProgressFn& progress = nullptr);

}  // namespace embody::quantize
