// ResNet18/34 trunk (torchvision, up to layer4) with LeRobot's FrozenBatchNorm2d folded into
// each convolution: y = conv(x)·s + (b − rm·s), s = w / sqrt(rv + eps), so the BN costs nothing.
//
// How the convolutions run (mode()):
//   f32           one op per layer in the backend's f32 layout (nChw16c on oneDNN, Winograd where
//                 allowed): the path whose parity with LeRobot the tests check.
//   int8 pipeline every convolution int8 (the plan's backbone=int8): activations stay u8 NHWC
//                 between layers with static per-tensor scales, and bias, residual sum, ReLU and
//                 requantization are fused into each convolution (kernels/quant/int8_pipeline.h).
//                 The image is quantized once (s8) before the stem; the last convolution writes
//                 the f32 tokens. Scales come from the quantized checkpoint's calibration
//                 (`embody quantize --static-activations`), or, when it has none (a checkpoint
//                 quantized without them, or --plan at load), from the first observation the
//                 model sees: its first runs (one per camera of the config; blank images such as
//                 dark startup frames do not count) go through the per-op int8 path below while
//                 recording every activation's range, then the pipeline is built (ranges widened
//                 by kCalibrationHeadroom) and used from then on. Later images much brighter or
//                 busier than those saturate: for deployment prefer a checkpoint quantized with
//                 --static-activations (its ranges cover every calibration input).
//   int8 per op   each convolution quantizes its f32 input and writes f32 (quant_linear.h's
//                 MakeQuantizedConv): while `embody quantize` captures ops (its observers need
//                 f32 activations), when per-layer overrides mix formats in the backbone, and in
//                 builds without oneDNN (the AArch64 reference build), where the pipeline has no
//                 fast kernel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/arena.h"
#include "kernels/ops.h"
#include "kernels/quant/int8_pipeline.h"
#include "models/act/act_config.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"

namespace embody::models::act {

class ResNetBackbone {
 public:
  // Builds the ops for one [3, height, width] camera image; reserves its scratch in `arena`.
  static Result<std::unique_ptr<ResNetBackbone>> Create(const ActConfig& c, const WeightTable& w,
                                                        OpFactory& factory, int64_t height,
                                                        int64_t width, bool winograd, Arena& arena);
  // Call once after arena.Commit().
  void BindArena(const Arena& arena);

  int64_t out_h() const { return out_h_; }
  int64_t out_w() const { return out_w_; }
  static constexpr int64_t kOutChannels = 512;
  // Ranges measured on the first observation are widened by this factor, so that later images
  // that are a little brighter or busier do not saturate.
  static constexpr float kCalibrationHeadroom = 1.25f;
  // Images whose normalized pixels vary less than this (std; about 6 gray levels for ImageNet
  // statistics), such as a camera's dark first frames, do not count towards calibration, unless
  // kMaxCalibrationRuns images went by without anything else.
  static constexpr double kBlankImageStd = 0.1;
  static constexpr int kMaxCalibrationRuns = 64;

  // image: normalized float [3, H, W] (plain NCHW); tokens: [out_h*out_w, 512] row-major.
  // Not reentrant. Should building the pipeline after the calibrating first run fail (a oneDNN
  // error), the backbone says so on stderr once and stays on the per-op int8 path.
  void Run(const float* image, float* tokens);

  // "f32", "int8 pipeline", "int8 pipeline (calibrating on the first observation)" or
  // "int8 per op".
  std::string mode() const;

 private:
  struct Block {
    std::unique_ptr<kernels::ConvOp> conv1, conv2, downsample;
  };
  // One convolution's quantized weights and stored calibration, kept until the pipeline is built.
  struct Int8Conv {
    std::string id;
    kernels::ConvParams params;
    PreparedConv prepared;
  };
  struct PipeBlock {
    std::unique_ptr<kernels::PipelineConvOp> conv1, conv2, downsample;
  };
  enum class Mode { kF32, kInt8PerOp, kCalibrating, kPipeline };

  // The per-op path over three f32 buffers; with `absmax`, records the largest |input| of every
  // convolution in Int8Conv order (calibration).
  void RunPerOp(const float* image, float* tokens, void* const buf[3], std::vector<float>* absmax);
  void RunPipeline(const float* image, float* tokens);
  // Builds the pipeline from each convolution's max |input| (Int8Conv order).
  Status BuildPipeline(const std::vector<float>& absmax);

  Mode mode_ = Mode::kF32;
  kernels::Backend backend_ = kernels::Backend::kOneDnn;
  int64_t in_h_ = 0, in_w_ = 0;
  // Per-op path.
  std::unique_ptr<kernels::ConvOp> stem_;
  std::unique_ptr<kernels::PoolOp> pool_;
  std::vector<Block> blocks_;
  std::vector<bool> has_downsample_;  // per block
  std::unique_ptr<kernels::ToTokensOp> to_tokens_;
  size_t perop_bytes_ = 0;
  size_t buf_offset_[3] = {0, 0, 0};
  void* buf_[3] = {nullptr, nullptr, nullptr};
  std::vector<float> calib_buf_;     // the per-op buffers of a calibrating backbone's first runs
  std::vector<float> calib_absmax_;  // ranges seen so far, Int8Conv order
  int calib_runs_left_ = 0, calib_runs_seen_ = 0;
  // int8 pipeline.
  std::vector<Int8Conv> int8_;  // stem, then per block conv1, conv2 (, downsample)
  kernels::PipelineTensor image_enc_;
  std::vector<kernels::PipelineTensor> block_in_;  // each block's input encoding
  std::unique_ptr<kernels::PipelineConvOp> pipe_stem_;
  std::unique_ptr<kernels::PoolOp> pipe_pool_;
  std::vector<PipeBlock> pipe_blocks_;
  size_t pipe_offset_[4] = {0, 0, 0, 0};  // image (s8), two u8 activations, f32 shortcut
  void* pipe_[4] = {nullptr, nullptr, nullptr, nullptr};
  int64_t out_h_ = 0, out_w_ = 0;
};

}  // namespace embody::models::act
