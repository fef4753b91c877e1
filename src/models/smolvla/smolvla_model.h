// SmolVlaModel: a LeRobot SmolVLA checkpoint as three blocks a scheduler can run separately.
//
//   vision  EncodeImages(frames)           camera frames -> image tokens (64 per camera)
//   llm     Prefill(task, state)           image + language + state tokens -> prefix KV cache
//   expert  Denoise(noise) / Denoise()     flow matching over the cached prefix -> action chunk
//
// Predict() runs all three. The expert may re-run on the same prefix (a scheduler running it at
// a different rate from the vision block). Normalization of the state and un-normalization of
// actions use the checkpoint's own statistics; callers see robot units.
//
// Thread safety: one thread at a time per model (the blocks share its scratch and cache).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "io/safetensors.h"
#include "kernels/ops.h"
#include "models/common/normalizer.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"
#include "models/smolvla/prefix_cache.h"
#include "models/smolvla/smolvla_config.h"
#include "models/smolvla/tokenizer.h"

namespace embody::models::smolvla {

class VisionEncoder;
class TextPrefill;
class ActionExpert;

// Which SigLIP position-embedding rows the vision block adds. SmolVLM was trained with the exact
// row-major ids 0..n*n-1 (transformers <= 4.54). transformers 4.55+ in float32 computes them
// with a bucketize that yields max(i - 1, 0) per axis (transformers issue #41190), and that is
// what LeRobot 0.4.4 with its pinned transformers runs in float32. See docs/KNOWN_ISSUES.md.
enum class SiglipPositionIds { kExact, kTransformersFloat32 };

struct SmolVlaOptions {
  SiglipPositionIds position_ids = SiglipPositionIds::kExact;
  kernels::Backend backend = kernels::Backend::kOneDnn;
  int threads = 0;  // <= 0: all available cores
  // Per-block thread counts (a scheduler can give the expert its own cores); <= 0: `threads`.
  int vision_threads = 0, llm_threads = 0, expert_threads = 0;
  // tokenizer.json; empty: <checkpoint>/tokenizer/tokenizer.json, then <checkpoint>/tokenizer.json.
  std::string tokenizer_path;
  // A task longer than tokenizer_max_length tokens is an error unless this is set; LeRobot then
  // silently keeps the last max_length tokens (left truncation), and so do we.
  bool truncate_long_tasks = false;
  // Precision plan over SmolVlaBlocks(), e.g. "vision=int8,connector=int8,llm=int8" (empty: all
  // f32). A quantized checkpoint carries its own plan; a different one here is an error.
  std::string plan;
  // `embody quantize` only: receives every op's packed weights (and observes activations).
  QuantCapture* capture = nullptr;
};

// The blocks a precision plan names for SmolVLA, in execution order.
inline std::vector<std::string> SmolVlaBlocks() { return {"vision", "connector", "llm", "expert"}; }

struct CameraImage {
  const uint8_t* pixels = nullptr;  // height x width x 3, RGB
  int height = 0, width = 0;
};

struct SmolVlaTimes {
  std::vector<double> vision_ms;  // per camera
  double llm_ms = 0;              // tokenize + embed + prefix pass + cross K/V projection
  double expert_ms = 0;           // all denoising steps
  double total_ms = 0;
};

class SmolVlaModel {
 public:
  ~SmolVlaModel();
  static Result<std::unique_ptr<SmolVlaModel>> Load(const std::string& checkpoint_dir, const SmolVlaOptions& options);

  const SmolVlaConfig& config() const { return config_; }
  const Normalizer& normalizer() const { return normalizer_; }
  const WeightTable& weights() const { return weights_; }
  const BpeTokenizer& tokenizer() const { return *tokenizer_; }
  int64_t max_prefix() const { return max_prefix_; }

  // Block 1. frames: one per config camera, in config order (any size; resized with padding).
  Status EncodeImages(const std::vector<CameraImage>& frames);
  // Block 2. task: natural-language instruction; state: [state_dim] robot units.
  // REQUIRES: EncodeImages() succeeded.
  Status Prefill(const std::string& task, const float* state);
  // Same with token ids (LeRobot's tokenizer output, pads allowed: mask 0 entries are dropped).
  Status PrefillTokens(const std::vector<int32_t>& ids, const std::vector<uint8_t>& mask, const float* state);
  // Block 3. noise: [chunk, max_action_dim] (nullptr: standard normal from the model's seeded
  // generator). actions: [chunk, action_dim] robot units; normalized: [chunk, max_action_dim].
  // REQUIRES: a Prefill() since the last EncodeImages(). Either output may be null.
  Status Denoise(const float* noise, float* actions, float* normalized);

  Status Predict(const std::vector<CameraImage>& frames, const std::string& task, const float* state,
                 const float* noise, float* actions, float* normalized);

  const SmolVlaTimes& last_times() const { return times_; }
  // The precision plan in effect (canonical text) and the ops built per block and format.
  const std::string& plan() const { return plan_text_; }
  const std::map<std::string, std::map<kernels::WeightFormat, int>>& op_census() const { return census_; }
  enum class Block { kVision, kLlm, kExpert };
  // Threads the block uses from its next call on (<= 0: all available cores).
  void set_threads(Block block, int threads);

  // Intermediates of the last run, for parity checks against LeRobot.
  const std::vector<float>& image_tokens() const { return image_tokens_; }  // [cams * 64, hidden]
  const PrefixCache& prefix_cache() const { return cache_; }
  const std::vector<float>& first_velocity() const { return first_velocity_; }
  // The denoised chunk after each Euler step of the last Denoise ([steps][chunk, max_action_dim],
  // normalized units), when recording is on (analysis only: it allocates).
  void set_record_trajectory(bool on) { record_trajectory_ = on; }
  const std::vector<float>& last_trajectory() const { return trajectory_; }
  const std::vector<int32_t>& last_token_ids() const { return token_ids_; }
  const std::vector<float>& last_preprocessed_image(size_t camera) const;
  const std::vector<int32_t>& vision_position_ids() const;

 private:
  SmolVlaModel() = default;

  SmolVlaConfig config_;
  SmolVlaOptions options_;
  ThreadPool vision_pool_{1}, llm_pool_{1}, expert_pool_{1};
  WeightTable weights_;
  Normalizer normalizer_;
  std::unique_ptr<BpeTokenizer> tokenizer_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<TextPrefill> text_;
  std::unique_ptr<ActionExpert> expert_;
  std::unique_ptr<kernels::LinearOp> state_proj_;
  int64_t max_prefix_ = 0;

  std::vector<float> image_tokens_, embeds_, state_buf_, noise_buf_, chunk_buf_, first_velocity_;
  std::vector<std::vector<float>> last_images_;
  std::vector<int32_t> token_ids_;
  PrefixCache cache_;
  bool images_ready_ = false;
  uint64_t noise_counter_ = 0;
  SmolVlaTimes times_;
  std::string plan_text_;
  std::map<std::string, std::map<kernels::WeightFormat, int>> census_;
  bool record_trajectory_ = false;
  std::vector<float> trajectory_;
};

}  // namespace embody::models::smolvla
