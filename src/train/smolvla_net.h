// LeRobot's SmolVLA policy (lerobot/policies/smolvla/, 0.4.4) as a libtorch module whose
// state_dict names are LeRobot's ("model.vlm_with_expert.vlm.model.vision_model.encoder.layers.0.
// self_attn.q_proj.weight", "model.vlm_with_expert.lm_expert.layers.1.self_attn.k_proj.weight",
// "model.action_time_mlp_in.weight", ...), so a model.safetensors written from it loads in
// `embody infer` (models/smolvla/smolvla_weights.cc) and in LeRobot.
//
// Follows modeling_smolvla.py and smolvlm_with_expert.py: SigLIP (patch conv, position
// embeddings, pre-LN layers, post LN), the connector (pixel shuffle + linear), image and language
// embeddings scaled by sqrt(hidden), the state token, the truncated SmolLM2 text layers paired
// with the action expert's (joint self-attention every self_attn_every_n_layers, cross-attention
// onto the VLM's post-RoPE keys and values through the expert's own k/v projections otherwise),
// LeRobot's RoPE (base 10000), the time MLP, and the flow-matching loss. Initialization follows
// transformers' (normal(0, 0.02) for the SmolVLM and expert matrices and embeddings, unit norms)
// and PyTorch's defaults for the layers LeRobot adds or replaces. Internal to src/train.
#pragma once

#include <optional>

#include <torch/torch.h>

#include "train/smolvla_hparams.h"

namespace embody::train {

// LlamaRMSNorm: weight * x / sqrt(mean(x^2) + eps), in float32.
struct RmsNormImpl : torch::nn::Module {
  RmsNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RmsNorm);

// One SigLIP encoder layer (pre-LN, tanh GELU): self_attn.{q,k,v,out}_proj, layer_norm1/2,
// mlp.fc1/fc2.
struct SiglipLayerImpl : torch::nn::Module {
  explicit SiglipLayerImpl(const models::smolvla::VisionConfig& v);
  torch::Tensor forward(const torch::Tensor& x);  // [N, tokens, hidden]
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr}, fc1{nullptr}, fc2{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  int64_t heads;
};
TORCH_MODULE(SiglipLayer);

// One Llama decoder layer's weights: self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj and the two
// RMSNorms. The attention itself is run by SmolVlaNet, which pairs VLM and expert layers.
struct LlamaLayerImpl : torch::nn::Module {
  // kv_in: the k/v projections' input width (the layer's hidden size, or the VLM's k/v width for
  // the expert's cross-attention layers, which LeRobot replaces with plain nn.Linear layers).
  LlamaLayerImpl(int64_t hidden, int64_t q_dim, int64_t kv_dim, int64_t kv_in, int64_t intermediate, double eps,
                 bool cross);
  torch::Tensor Mlp(const torch::Tensor& x);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr}, gate_proj{nullptr},
      up_proj{nullptr}, down_proj{nullptr};
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaLayer);

// The prefix of one batch: [image tokens of every camera, language tokens, state token].
struct SmolVlaPrefix {
  torch::Tensor embs;  // [B, P, text hidden]
  torch::Tensor pad;   // [B, P] bool: valid tokens
  torch::Tensor ar;    // [B, P] int64: big_vision's autoregressive mask (1 for the state token)
};

// Network inputs of one batch, already preprocessed as LeRobot's policy receives them.
struct SmolVlaInputs {
  torch::Tensor images;      // [B, cameras, 3, S, S] float in [-1, 1] (resized with padding)
  torch::Tensor lang_ids;    // [B, L] int64
  torch::Tensor lang_mask;   // [B, L] bool
  torch::Tensor state;       // [B, max_state_dim] normalized, zero-padded
  torch::Tensor actions;     // [B, chunk, max_action_dim] normalized, zero-padded (training)
  torch::Tensor action_is_pad;  // [B, chunk] bool (training)
};

// LeRobot's VLAFlowMatching (the policy's `model`).
struct SmolVlaNetImpl : torch::nn::Module {
  explicit SmolVlaNetImpl(const SmolVlaHparams& h);

  // embed_prefix: images through SigLIP + connector, scaled by sqrt(hidden); language tokens
  // scaled the same; the state token.
  SmolVlaPrefix EmbedPrefix(const SmolVlaInputs& in);
  // The velocity v_t [B, chunk, max_action_dim] at x_t [B, chunk, max_action_dim] and time t [B]:
  // embed_suffix, then the VLM and expert layers over [prefix, suffix] in one pass (the training
  // forward; the prefix never attends to the suffix, so this equals the cached inference path).
  torch::Tensor Velocity(const SmolVlaPrefix& prefix, const torch::Tensor& x_t, const torch::Tensor& t);
  // One image batch [N, 3, S, S] -> [N, tokens per image, text hidden] (before the sqrt scaling).
  torch::Tensor EmbedImage(const torch::Tensor& images);

  SmolVlaHparams h;
  int64_t layers, expert_hidden;
  // vlm_with_expert.vlm.model.vision_model
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  torch::nn::ModuleList vision_layers{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
  // vlm_with_expert.vlm.model.connector.modality_projection.proj
  torch::nn::Linear connector_proj{nullptr};
  // vlm_with_expert.vlm.model.text_model
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList text_layers{nullptr};
  RmsNorm text_norm{nullptr};  // in LeRobot's state_dict; its output is never used
  torch::nn::Linear lm_head{nullptr};  // vlm_with_expert.vlm.lm_head: in the state_dict, unused
  // vlm_with_expert.lm_expert
  torch::nn::ModuleList expert_layers{nullptr};
  RmsNorm expert_norm{nullptr};
  torch::nn::Linear state_proj{nullptr}, action_in_proj{nullptr}, action_out_proj{nullptr},
      action_time_mlp_in{nullptr}, action_time_mlp_out{nullptr};
  torch::nn::Module *vision_model = nullptr, *vlm = nullptr;  // holders, for freezing

 private:
  torch::Tensor vision_position_ids_;  // [patches]
};
TORCH_MODULE(SmolVlaNet);

struct SmolVlaLoss {
  torch::Tensor loss;
};

// LeRobot's SmolVLAPolicy: holds the network as `model`, so every key starts with "model.".
struct SmolVlaPolicyImpl : torch::nn::Module {
  explicit SmolVlaPolicyImpl(const SmolVlaHparams& h);
  // SmolVLAPolicy.forward: noise ~ N(0, 1), t = 0.999 * Beta(1.5, 1) + 0.001, x_t = t * noise +
  // (1 - t) * actions, MSE between u_t = noise - actions and v_t over every element (padded action
  // dims included, as LeRobot), steps past the episode's end zeroed when mask_padded_actions.
  // Draws from `generator` (the default CPU generator when absent).
  SmolVlaLoss Loss(const SmolVlaInputs& in, c10::optional<at::Generator> generator = c10::nullopt);
  // sample_actions: num_steps Euler steps from `noise` [B, chunk, max_action_dim] at t = 1, 1 - 1/n,
  // ...; returns the normalized chunk [B, chunk, max_action_dim].
  torch::Tensor Sample(const SmolVlaInputs& in, const torch::Tensor& noise);
  SmolVlaNet model{nullptr};
};
TORCH_MODULE(SmolVlaPolicy);

// Sets requires_grad as LeRobot does: the vision encoder frozen with freeze_vision_encoder, the whole
// VLM with train_expert_only (else only lm_head), state_proj with !train_state_proj.
void ApplySmolVlaFreezing(SmolVlaPolicyImpl& policy, const SmolVlaHparams& h);

// LeRobot's apply_rope: x [B, L, H, D] rotated by positions [B, L] (base 10000, rotate-half).
torch::Tensor ApplyRope(const torch::Tensor& x, const torch::Tensor& positions);
// create_sinusoidal_pos_embedding: [B, dim] for times [B] (float64 inside, float32 out).
torch::Tensor SinusoidalTimeEmbedding(const torch::Tensor& t, int64_t dim, double min_period, double max_period);
// make_att_2d_masks: [B, N, N] bool from pad [B, N] bool and ar [B, N] int.
torch::Tensor MakeAttention2dMasks(const torch::Tensor& pad, const torch::Tensor& ar);

}  // namespace embody::train
