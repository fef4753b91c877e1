// Action expert block: flow matching over a cached prefix. Each of num_steps Euler steps embeds
// (x_t, t) into the expert's width, runs the expert layers (even: joint self-attention over
// prefix + causal actions; odd: cross-attention to the expert-projected prefix K/V), and maps
// back to a velocity; x_{t+dt} = x_t + dt v_t with dt = -1/num_steps from t = 1.
#pragma once

#include <memory>
#include <vector>

#include "kernels/ops.h"
#include "models/common/op_factory.h"
#include "models/common/weight_table.h"
#include "models/smolvla/prefix_cache.h"
#include "models/smolvla/smolvla_config.h"

namespace embody::models::smolvla {

class ActionExpert {
 public:
  static Result<std::unique_ptr<ActionExpert>> Create(const SmolVlaConfig& c, const WeightTable& w,
                                                      OpFactory& factory, int64_t max_prefix);
  // Per chunk: the cross-attention layers' prefix K/V through the expert's k/v projections.
  void ProjectPrefix(PrefixCache& cache);
  // noise: [chunk, max_action_dim]; out: the denoised chunk, same shape (normalized units).
  // first_velocity (optional): v at the first step, for parity checks.
  // trajectory (optional): x after each step appended, [steps][chunk * max_action_dim] (the
  // quantizer's report follows how error grows across steps).
  void Denoise(PrefixCache& cache, const float* noise, float* out, float* first_velocity = nullptr,
               std::vector<float>* trajectory = nullptr);

 private:
  struct Layer {
    bool self_attn = false;
    std::vector<float> ln_in, ln_post;
    std::unique_ptr<kernels::LinearOp> q_or_qkv, o, gate_up, down;
    std::unique_ptr<kernels::LinearOp> cross_k, cross_v;  // cross layers: [P, kv] -> [P, kv]
  };
  void Velocity(PrefixCache& cache, const float* x_t, float time, float* v);

  int64_t chunk_ = 0, de_ = 0, q_dim_ = 0, kv_dim_ = 0, inter_ = 0, heads_ = 0, kv_heads_ = 0, head_dim_ = 0;
  int64_t max_action_ = 0;
  int num_steps_ = 10;
  double min_period_ = 4e-3, max_period_ = 4.0;
  float eps_ = 1e-5f;
  std::vector<Layer> layers_;
  std::vector<float> final_norm_;
  std::unique_ptr<kernels::LinearOp> action_in_, time_in_, time_out_, action_out_;
  std::unique_ptr<kernels::GqaAttentionOp> attn_;
  std::vector<float> x_, a_t_, hidden_, y_, h_, qkv_, att_, gu_, mlp_, v_;
  std::vector<int32_t> positions_, kv_len_;
};

// LeRobot's create_sinusoidal_pos_embedding for one time value: [sin(2 pi t / period_i) (d/2),
// cos(...) (d/2)], periods log-spaced from min_period to max_period, computed in float64.
void TimeEmbedding(double time, int64_t dim, double min_period, double max_period, float* out);

}  // namespace embody::models::smolvla
