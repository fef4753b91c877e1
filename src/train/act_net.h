// LeRobot's ACT policy as a libtorch module whose state_dict names are LeRobot's
// ("model.backbone.layer1.0.conv1.weight", "model.vae_encoder.layers.0.self_attn.in_proj_weight",
// ...), so a model.safetensors written from it loads in LeRobot and in embody's runtime.
//
// Follows lerobot/policies/act/modeling_act.py (0.4.4): the CVAE encoder over [cls, state,
// actions] with a key padding mask at episode ends, the ResNet trunk with frozen batch norm, the
// encoder over [latent, state, image pixels] with positions added to queries and keys at every
// layer, the one-layer decoder plus final norm, L1 + kl_weight * KL. Initialization follows
// torchvision (Kaiming-normal convolutions, identity frozen BN) and ACT (Xavier-uniform for every
// matrix of the encoder and decoder). Internal to src/train: this header pulls in libtorch.
#pragma once

#include <torch/torch.h>

#include "train/act_hparams.h"
#include "train/torch_tensors.h"

namespace embody::train {

// torchvision's FrozenBatchNorm2d: four buffers, no num_batches_tracked, eps 1e-5.
struct FrozenBatchNorm2dImpl : torch::nn::Module {
  explicit FrozenBatchNorm2dImpl(int64_t channels);
  // While set, forward() first stores its input's per-channel mean and variance as the running
  // statistics (see CalibrateFrozenBatchNorms).
  bool calibrating = false;
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias, running_mean, running_var;
};
TORCH_MODULE(FrozenBatchNorm2d);

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  FrozenBatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

// torchvision's ResNet trunk up to layer4 (IntermediateLayerGetter drops avgpool and fc).
struct ResNetTrunkImpl : torch::nn::Module {
  explicit ResNetTrunkImpl(const std::string& name);
  torch::Tensor forward(const torch::Tensor& x);  // [N,3,H,W] -> [N,512,H/32,W/32]
  torch::nn::Conv2d conv1{nullptr};
  FrozenBatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNetTrunk);

// nn.MultiheadAttention's parameters (in_proj_weight, in_proj_bias, out_proj) and math, with the
// attention dropout; inputs are (sequence, batch, dim) as LeRobot calls it.
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t dim, int64_t heads, double dropout);
  // key_padding_mask: [B, Lk] bool, true = ignore; may be undefined.
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& key_padding_mask = {});
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};
  int64_t dim, heads;
  double dropout;
};
TORCH_MODULE(Attention);

struct EncoderLayerImpl : torch::nn::Module {
  explicit EncoderLayerImpl(const ActHparams& h);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& key_padding_mask = {});
  Attention self_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr};
  bool pre_norm, gelu;
};
TORCH_MODULE(EncoderLayer);

struct EncoderImpl : torch::nn::Module {
  EncoderImpl(const ActHparams& h, int layers);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& pos, const torch::Tensor& key_padding_mask = {});
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm norm{nullptr};  // only with pre_norm (an Identity otherwise, no tensors)
};
TORCH_MODULE(Encoder);

struct DecoderLayerImpl : torch::nn::Module {
  explicit DecoderLayerImpl(const ActHparams& h);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& enc, const torch::Tensor& dec_pos,
                        const torch::Tensor& enc_pos);
  Attention self_attn{nullptr}, multihead_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr}, dropout3{nullptr};
  bool pre_norm, gelu;
};
TORCH_MODULE(DecoderLayer);

struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const ActHparams& h);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& enc, const torch::Tensor& dec_pos,
                        const torch::Tensor& enc_pos);
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm norm{nullptr};  // always present, even with post-norm
};
TORCH_MODULE(Decoder);

// Normalized inputs of one batch, as the network takes them.
struct ActBatch {
  torch::Tensor images;         // [B, cameras, 3, H, W] float, normalized, or undefined without cameras
  torch::Tensor state;          // [B, state_dim] normalized, or undefined
  torch::Tensor env_state;      // [B, env_state_dim] normalized, or undefined
  torch::Tensor actions;        // [B, chunk, action_dim] normalized (training with the VAE)
  torch::Tensor action_is_pad;  // [B, chunk] bool
};

struct ActOutput {
  torch::Tensor actions;             // [B, chunk, action_dim] normalized
  torch::Tensor mu, log_sigma_x2;    // [B, latent] (training with the VAE), else undefined
};

struct ActLoss {
  torch::Tensor loss;
  double l1 = 0, kld = 0;
};

// LeRobot's ACT (the policy's `model`).
struct ActNetImpl : torch::nn::Module {
  ActNetImpl(const ActHparams& h, const TrainFeatures& f);
  ActOutput forward(const ActBatch& b);

  ActHparams h;
  TrainFeatures f;
  Encoder vae_encoder{nullptr};
  torch::nn::Embedding vae_encoder_cls_embed{nullptr};
  torch::nn::Linear vae_encoder_robot_state_input_proj{nullptr}, vae_encoder_action_input_proj{nullptr},
      vae_encoder_latent_output_proj{nullptr};
  torch::Tensor vae_encoder_pos_enc;  // persistent buffer [1, S, D]
  ResNetTrunk backbone{nullptr};  // only with cameras, as LeRobot
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Linear encoder_robot_state_input_proj{nullptr}, encoder_env_state_input_proj{nullptr},
      encoder_latent_input_proj{nullptr};
  torch::nn::Conv2d encoder_img_feat_input_proj{nullptr};
  torch::nn::Embedding encoder_1d_feature_pos_embed{nullptr}, decoder_pos_embed{nullptr};
  torch::nn::Linear action_head{nullptr};

 private:
  ActOutput Compute(const ActBatch& b);  // forward() without the final casts to f32
  torch::Tensor CameraPositions(int64_t h, int64_t w);  // [(h w), 1, D], cached per size
  torch::Tensor cam_pos_;
  int64_t cam_pos_h_ = -1, cam_pos_w_ = -1;
};
TORCH_MODULE(ActNet);

// The policy: holds the network as `model`, so every state_dict key starts with "model.".
struct ActPolicyImpl : torch::nn::Module {
  ActPolicyImpl(const ActHparams& h, const TrainFeatures& f);
  // LeRobot's ACTPolicy.forward: masked L1 (mean over every element, pads zeroed) + kl_weight * KL.
  ActLoss Loss(const ActBatch& b);
  ActNet model{nullptr};
};
TORCH_MODULE(ActPolicy);

// Data-dependent initialisation of the backbone's frozen batch norms, for a trunk trained from
// scratch. LeRobot starts from ImageNet weights whose FrozenBatchNorm2d buffers hold real
// statistics; without them (nothing can be downloaded here) every frozen BN is the identity and
// the un-normalized ResNet trains poorly. This runs the trunk once over `images` ([N, 3, H, W],
// normalized) and sets each BN's running mean/var to the statistics of its input, in forward
// order, so each layer sees normalized activations at step 0. Weight and bias stay 1 and 0, the
// buffers stay frozen afterwards, and the checkpoint format is unchanged (LeRobot loads it).
void CalibrateFrozenBatchNorms(ResNetTrunkImpl& trunk, const torch::Tensor& images);

// LeRobot's two optimizer parameter groups: everything but model.backbone.*, then the backbone
// (its own learning rate). Names are returned alongside for the optimizer state file.
struct ParamGroups {
  std::vector<std::string> names[2];
  std::vector<torch::Tensor> params[2];
};
ParamGroups MakeParamGroups(torch::nn::Module& policy);

// 1D sinusoidal table of create_sinusoidal_pos_embedding: [n, dim].
torch::Tensor SinusoidalTable1d(int64_t n, int64_t dim);
// ACTSinusoidalPositionEmbedding2d for an h x w map: [1, 2*half, h, w].
torch::Tensor SinusoidalTable2d(int64_t h, int64_t w, int64_t half);

}  // namespace embody::train
