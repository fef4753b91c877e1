// ActModel: a LeRobot ACT checkpoint prepared for inference on fixed input shapes.
//
// Load() parses config.json, binds model.safetensors (mmapped) against the weight table, loads
// the normalization stats (either layout), packs every weight for the chosen kernel backend and
// plans all activation buffers in one arena. Predict() then runs without allocating.
//
// Thread safety: Predict() may not run concurrently on one model (it owns its scratch); load
// one model per thread for parallel sessions.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/arena.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "io/safetensors.h"
#include "kernels/ops.h"
#include "models/act/act_config.h"
#include "models/common/normalizer.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"

namespace embody::models::act {

class ResNetBackbone;
class ActEncoder;
class ActDecoder;

struct ActOptions {
  kernels::Backend backend = kernels::Backend::kOneDnn;
  int threads = 0;  // <= 0: all available cores
  // Winograd for the backbone's 3x3 stride-1 convolutions where the backend has it: ~30%
  // less backbone time; parity with LeRobot is tested with it on and off.
  bool winograd = true;
  // Benchmarks only: run with this many cameras of this size instead of the config's (ACT's
  // weights do not depend on either). Extra cameras reuse the first camera's statistics.
  int override_cameras = 0;
  int override_height = 0, override_width = 0;
  // Precision plan over ActBlocks(), e.g. "backbone=int8,encoder=int8" (empty: all f32). A
  // quantized checkpoint carries its own plan; a different one here is an error.
  std::string plan;
  // `embody quantize` only: receives every op's packed weights (and observes activations).
  QuantCapture* capture = nullptr;
};

// The blocks a precision plan names for ACT, in execution order.
inline std::vector<std::string> ActBlocks() { return {"backbone", "encoder", "decoder"}; }

// One camera frame in robot units: 8-bit RGB, HWC, rows top to bottom.
struct CameraFrame {
  const uint8_t* pixels = nullptr;  // height x width x 3
  int height = 0;
  int width = 0;
};

struct ActObservation {
  std::vector<CameraFrame> images;    // one per config camera, in config order
  const float* state = nullptr;       // [state_dim], robot units; required iff the config has it
  const float* env_state = nullptr;   // [env_state_dim]; required iff the config has it
};

// Wall time of the last Predict(), per block.
struct ActBlockTimes {
  std::vector<double> backbone_ms;  // per camera: preprocessing + ResNet + layout
  double encoder_ms = 0;            // projections, token assembly, encoder layers
  double decoder_ms = 0;            // decoder layers, final norm, action head, unnormalize
  double total_ms = 0;
};

class ActModel {
 public:
  ~ActModel();
  static Result<std::unique_ptr<ActModel>> Load(const std::string& checkpoint_dir, const ActOptions& options);

  const ActConfig& config() const { return config_; }
  const Normalizer& normalizer() const { return normalizer_; }
  const WeightTable& weights() const { return weights_; }
  const ActOptions& options() const { return options_; }
  const std::string& checkpoint_dir() const { return dir_; }
  int64_t sequence_length() const { return seq_; }
  size_t arena_bytes() const { return arena_.bytes(); }

  // Runs the network once. Outputs (either may be null) are [chunk_size, action_dim]:
  // `actions` in robot units, `normalized` as the network produced them.
  // Errors: InvalidArgument for a wrong number of images, wrong image size, missing state,
  // NaN or infinite state values.
  Status Predict(const ActObservation& obs, float* actions, float* normalized);

  const ActBlockTimes& last_times() const { return times_; }
  // Block outputs of the last Predict() (pointers into the model's arena, valid until the next
  // call), for the quantizer's sensitivity report: camera tokens [cams * tokens, 512], encoder
  // output [sequence_length, dim_model], decoder output [chunk_size, dim_model].
  struct BlockOutputs {
    const float* backbone = nullptr;
    int64_t backbone_size = 0;
    const float* encoder = nullptr;
    int64_t encoder_size = 0;
    const float* decoder = nullptr;
    int64_t decoder_size = 0;
  };
  const BlockOutputs& last_block_outputs() const { return outputs_; }
  // The precision plan in effect (canonical text) and the ops built per block and format.
  const std::string& plan() const { return plan_text_; }
  const std::map<std::string, std::map<kernels::WeightFormat, int>>& op_census() const { return census_; }

  // Per-block entry points for a scheduler (runtime/sched, issue 6); defined in act_blocks.cc.
  // Predict(obs) computes the same as RunBackbone(obs, c, 0) for every camera c, then
  // RunTransformer(obs, ...). Different cameras may run concurrently from different threads when
  // each uses its own replica: replica 0 is the model's own backbone, replicas 1 ..
  // backbone_replicas() - 1 come from AddBackboneReplicas (own ResNet weights and scratch each).
  // These do not set the OpenMP thread count: the calling executor does.
  Status AddBackboneReplicas(int count);
  int backbone_replicas() const { return 1 + static_cast<int>(replicas_.size()); }
  // Writes camera `camera`'s tokens. Errors: camera or replica out of range, missing/mis-sized image.
  Status RunBackbone(const ActObservation& obs, size_t camera, int replica);
  // Encoder and decoder over the tokens of every camera's last RunBackbone.
  Status RunTransformer(const ActObservation& obs, float* actions, float* normalized);

 private:
  struct BackboneReplica;                                  // act_blocks.cc
  std::vector<std::shared_ptr<BackboneReplica>> replicas_;  // shared_ptr: deletable where incomplete

  ActModel() = default;
  Status Validate(const ActObservation& obs) const;
  Status ValidateImage(const CameraFrame& frame, size_t camera) const;
  // Everything after the backbones (input projections, encoder, decoder, action head), on the
  // camera tokens already in the arena: the one path Predict() and RunTransformer() share.
  void RunEncoderDecoder(const ActObservation& obs, float* actions, float* normalized);
  void PreprocessImage(const CameraFrame& frame, size_t camera, float* chw) const;

  std::string dir_;
  ActConfig config_;
  ActOptions options_;
  ThreadPool pool_{1};
  std::shared_ptr<io::SafetensorsFile> file_;
  WeightTable weights_;
  Normalizer normalizer_;

  std::unique_ptr<ResNetBackbone> backbone_;
  std::unique_ptr<kernels::LinearOp> img_proj_, state_proj_, env_proj_, head_;
  std::unique_ptr<ActEncoder> encoder_;
  std::unique_ptr<ActDecoder> decoder_;
  std::vector<float> latent_token_;  // encoder_latent_input_proj applied to the zero latent
  std::vector<float> pos_;           // [seq, d] positions of encoder tokens
  std::vector<float> query_pos_;     // [chunk, d] decoder_pos_embed

  int64_t seq_ = 0, img_tokens_ = 0;
  Arena arena_;
  struct Offsets {
    size_t image, cam_tokens, x, x_alt, enc_pos_sum, y, y_alt, normalized, state;
  } off_{};
  struct ScratchOffsets;
  std::unique_ptr<ScratchOffsets> scratch_;
  ActBlockTimes times_;
  std::string plan_text_;
  std::map<std::string, std::map<kernels::WeightFormat, int>> census_;
  BlockOutputs outputs_;
};

// The 2D sinusoidal embedding of LeRobot's ACTSinusoidalPositionEmbedding2d for an h x w
// feature map, written token-major: out[(y*w + x) * dim + c], dim = dim_model.
void SinusoidalPosition2d(int64_t h, int64_t w, int64_t dim, float* out);

}  // namespace embody::models::act
