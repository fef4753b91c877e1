#include "train/act_hparams.h"

#include "models/act/act_config.h"

namespace embody::train {

Status ValidateHparams(const ActHparams& h) {
  auto positive = [](const char* name, int v) -> Status {
    if (v < 1) return InvalidArgument(std::string("ACT config: ") + name + " must be >= 1, got " + std::to_string(v));
    return Status::Ok();
  };
  EMBODY_TRY(positive("chunk_size", h.chunk_size));
  EMBODY_TRY(positive("n_action_steps", h.n_action_steps));
  EMBODY_TRY(positive("dim_model", h.dim_model));
  EMBODY_TRY(positive("n_heads", h.n_heads));
  EMBODY_TRY(positive("dim_feedforward", h.dim_feedforward));
  EMBODY_TRY(positive("n_encoder_layers", h.n_encoder_layers));
  EMBODY_TRY(positive("n_decoder_layers", h.n_decoder_layers));
  EMBODY_TRY(positive("latent_dim", h.latent_dim));
  if (h.use_vae) EMBODY_TRY(positive("n_vae_encoder_layers", h.n_vae_encoder_layers));
  if (h.n_action_steps > h.chunk_size)
    return InvalidArgument("ACT config: n_action_steps (" + std::to_string(h.n_action_steps) +
                           ") must be <= chunk_size (" + std::to_string(h.chunk_size) + ")");
  if (h.dim_model % h.n_heads != 0)
    return InvalidArgument("ACT config: dim_model " + std::to_string(h.dim_model) + " is not divisible by n_heads " +
                           std::to_string(h.n_heads));
  if (h.dim_model % 2 != 0) return InvalidArgument("ACT config: dim_model must be even (2D sinusoidal positions)");
  if (h.vision_backbone != "resnet18" && h.vision_backbone != "resnet34")
    return Unimplemented("ACT config: vision_backbone '" + h.vision_backbone + "': only resnet18 and resnet34 train here");
  if (h.feedforward_activation != "relu" && h.feedforward_activation != "gelu")
    return Unimplemented("ACT config: feedforward_activation '" + h.feedforward_activation +
                         "': relu or gelu (glu halves the width and breaks linear2, in LeRobot too)");
  if (!(h.dropout >= 0 && h.dropout < 1)) return InvalidArgument("ACT config: dropout must be in [0, 1)");
  if (!(h.kl_weight >= 0)) return InvalidArgument("ACT config: kl_weight must be >= 0");
  if (!(h.optimizer_lr > 0) || !(h.optimizer_lr_backbone >= 0) || !(h.optimizer_weight_decay >= 0))
    return InvalidArgument("ACT config: learning rates must be > 0 and weight decay >= 0");
  return Status::Ok();
}

namespace {

io::Json Feature(const char* type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }

}  // namespace

io::Json MakeActConfigJson(const ActHparams& h, const TrainFeatures& f) {
  io::Json inputs = io::Json::object();
  if (f.state_dim > 0) inputs["observation.state"] = Feature("STATE", {f.state_dim});
  if (f.env_state_dim > 0) inputs["observation.environment_state"] = Feature("ENV", {f.env_state_dim});
  for (const std::string& cam : f.cameras) inputs[cam] = Feature("VISUAL", {3, f.height, f.width});
  return {{"type", "act"},
          {"n_obs_steps", 1},
          // ENV is listed (LeRobot's default mapping leaves it out, i.e. IDENTITY) so that both
          // LeRobot and embody normalize the environment state with the dataset's stats.
          {"normalization_mapping",
           {{"VISUAL", "MEAN_STD"}, {"STATE", "MEAN_STD"}, {"ENV", "MEAN_STD"}, {"ACTION", "MEAN_STD"}}},
          {"input_features", inputs},
          {"output_features", {{"action", Feature("ACTION", {f.action_dim})}}},
          {"device", "cpu"},
          {"use_amp", h.use_amp},
          {"push_to_hub", false},
          {"repo_id", nullptr},
          {"private", nullptr},
          {"tags", nullptr},
          {"license", nullptr},
          {"chunk_size", h.chunk_size},
          {"n_action_steps", h.n_action_steps},
          {"vision_backbone", h.vision_backbone},
          // The backbone's weights are in model.safetensors; null keeps LeRobot from downloading
          // ImageNet weights when it builds the module before loading them.
          {"pretrained_backbone_weights", nullptr},
          {"replace_final_stride_with_dilation", false},
          {"pre_norm", h.pre_norm},
          {"dim_model", h.dim_model},
          {"n_heads", h.n_heads},
          {"dim_feedforward", h.dim_feedforward},
          {"feedforward_activation", h.feedforward_activation},
          {"n_encoder_layers", h.n_encoder_layers},
          {"n_decoder_layers", h.n_decoder_layers},
          {"use_vae", h.use_vae},
          {"latent_dim", h.latent_dim},
          {"n_vae_encoder_layers", h.n_vae_encoder_layers},
          {"temporal_ensemble_coeff", nullptr},
          {"dropout", h.dropout},
          {"kl_weight", h.kl_weight},
          {"optimizer_lr", h.optimizer_lr},
          {"optimizer_weight_decay", h.optimizer_weight_decay},
          {"optimizer_lr_backbone", h.optimizer_lr_backbone}};
}

Status ReadActConfigJson(const io::Json& j, const std::string& path, ActHparams* h, TrainFeatures* f) {
  EMBODY_ASSIGN_OR_RETURN(models::act::ActConfig c, models::act::ParseActConfig(j, path));
  if (c.replace_final_stride_with_dilation)
    return Unimplemented(path + ": replace_final_stride_with_dilation: torchvision's BasicBlock rejects dilation");
  if (c.temporal_ensemble_coeff)
    return Unimplemented(path + ": temporal_ensemble_coeff: an inference option; train without it and set it after");
  h->chunk_size = c.chunk_size;
  h->n_action_steps = c.n_action_steps;
  h->vision_backbone = c.vision_backbone;
  h->pre_norm = c.pre_norm;
  h->dim_model = c.dim_model;
  h->n_heads = c.n_heads;
  h->dim_feedforward = c.dim_feedforward;
  h->feedforward_activation = c.feedforward_activation == kernels::Activation::kGelu ? "gelu" : "relu";
  h->n_encoder_layers = c.n_encoder_layers;
  h->n_decoder_layers = c.n_decoder_layers;
  h->use_vae = c.use_vae;
  h->latent_dim = c.latent_dim;
  h->n_vae_encoder_layers = c.n_vae_encoder_layers;
  auto number = [&](const char* key, double* out) -> Status {
    if (!j.contains(key) || j[key].is_null()) return Status::Ok();
    if (!j[key].is_number()) return InvalidArgument(path + ": field '" + key + "': expected a number");
    *out = j[key].get<double>();
    return Status::Ok();
  };
  EMBODY_TRY(number("dropout", &h->dropout));
  EMBODY_TRY(number("kl_weight", &h->kl_weight));
  EMBODY_TRY(number("optimizer_lr", &h->optimizer_lr));
  EMBODY_TRY(number("optimizer_weight_decay", &h->optimizer_weight_decay));
  EMBODY_TRY(number("optimizer_lr_backbone", &h->optimizer_lr_backbone));
  if (j.contains("use_amp") && !j["use_amp"].is_null()) {
    if (!j["use_amp"].is_boolean()) return InvalidArgument(path + ": field 'use_amp': expected true or false");
    h->use_amp = j["use_amp"].get<bool>();
  }
  *f = TrainFeatures{};
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const auto& cam = c.camera(i);
    if (i > 0 && (cam.shape[1] != f->height || cam.shape[2] != f->width))
      return InvalidArgument(path + ": " + cam.key + ": every camera must have the same size (ACT stacks them)");
    f->cameras.push_back(cam.key);
    f->height = static_cast<int>(cam.shape[1]);
    f->width = static_cast<int>(cam.shape[2]);
  }
  f->state_dim = static_cast<int>(c.state_dim());
  f->env_state_dim = static_cast<int>(c.env_state_dim());
  f->action_dim = static_cast<int>(c.action_dim());
  return ValidateHparams(*h);
}

}  // namespace embody::train
