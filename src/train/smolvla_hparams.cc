#include "train/smolvla_hparams.h"

#include <algorithm>
#include <type_traits>

namespace embody::train {

namespace sv = models::smolvla;

sv::VlmConfig SmallVlm() {
  sv::VlmConfig v;
  v.vision.hidden = 96;
  v.vision.layers = 2;
  v.vision.heads = 3;
  v.vision.intermediate = 384;
  v.vision.patch = 8;
  v.vision.image_size = 64;
  v.text.hidden = 128;
  v.text.layers = 4;
  v.text.heads = 4;
  v.text.kv_heads = 2;
  v.text.head_dim = 32;
  v.text.intermediate = 256;
  v.scale_factor = 2;
  v.source = "embody small";
  return v;
}

sv::VlmConfig TinyVlm() {
  sv::VlmConfig v;
  v.vision.hidden = 32;
  v.vision.layers = 1;
  v.vision.heads = 2;
  v.vision.intermediate = 64;
  v.vision.patch = 8;
  v.vision.image_size = 32;
  v.text.hidden = 32;
  v.text.layers = 2;
  v.text.heads = 2;
  v.text.kv_heads = 1;
  v.text.head_dim = 16;
  v.text.intermediate = 64;
  v.scale_factor = 2;
  v.source = "embody tiny";
  return v;
}

Result<sv::VlmConfig> VlmPreset(const std::string& name) {
  if (name == "base") return sv::VlmConfig{};
  if (name == "small") return SmallVlm();
  if (name == "tiny") return TinyVlm();
  return InvalidArgument("SmolVLA backbone preset '" + name + "': base (SmolVLM2-500M), small or tiny");
}

int ExpertHidden(const SmolVlaHparams& h) { return static_cast<int>(h.vlm.text.hidden * h.expert_width_multiplier); }

int NumLayers(const SmolVlaHparams& h) { return std::min(h.num_vlm_layers, h.vlm.text.layers); }

Status ValidateSmolVlaHparams(const SmolVlaHparams& h, const TrainFeatures& f) {
  auto positive = [](const char* name, double v) -> Status {
    if (!(v >= 1)) return InvalidArgument(std::string("SmolVLA config: ") + name + " must be >= 1, got " + std::to_string(v));
    return Status::Ok();
  };
  EMBODY_TRY(positive("chunk_size", h.chunk_size));
  EMBODY_TRY(positive("n_action_steps", h.n_action_steps));
  EMBODY_TRY(positive("num_steps", h.num_steps));
  EMBODY_TRY(positive("tokenizer_max_length", h.tokenizer_max_length));
  EMBODY_TRY(positive("num_vlm_layers", h.num_vlm_layers));
  EMBODY_TRY(positive("self_attn_every_n_layers", h.self_attn_every_n_layers));
  if (h.n_action_steps > h.chunk_size)
    return InvalidArgument("SmolVLA config: n_action_steps (" + std::to_string(h.n_action_steps) +
                           ") must be <= chunk_size (" + std::to_string(h.chunk_size) + ")");
  if (h.pad_language_to != "longest" && h.pad_language_to != "max_length")
    return InvalidArgument("SmolVLA config: pad_language_to '" + h.pad_language_to + "': longest or max_length");
  const auto& v = h.vlm.vision;
  const auto& t = h.vlm.text;
  for (auto [name, value] : {std::pair{"vision hidden_size", v.hidden}, {"vision num_hidden_layers", v.layers},
                             {"vision num_attention_heads", v.heads}, {"vision intermediate_size", v.intermediate},
                             {"patch_size", v.patch}, {"image_size", v.image_size}, {"scale_factor", h.vlm.scale_factor},
                             {"text hidden_size", t.hidden}, {"text num_attention_heads", t.heads},
                             {"text num_key_value_heads", t.kv_heads}, {"text head_dim", t.head_dim},
                             {"text intermediate_size", t.intermediate}, {"vocab_size", t.vocab}})
    EMBODY_TRY(positive(name, value));
  if (v.hidden % v.heads != 0) return InvalidArgument("SmolVLA backbone: vision hidden_size is not divisible by its heads");
  if (v.image_size % v.patch != 0 || (v.image_size / v.patch) % h.vlm.scale_factor != 0)
    return InvalidArgument("SmolVLA backbone: image_size / patch_size (" + std::to_string(v.image_size) + " / " +
                           std::to_string(v.patch) + ") must be a multiple of scale_factor " +
                           std::to_string(h.vlm.scale_factor));
  if (t.heads % t.kv_heads != 0) return InvalidArgument("SmolVLA backbone: text heads must be a multiple of kv heads");
  if (t.head_dim % 2 != 0) return InvalidArgument("SmolVLA backbone: head_dim must be even (RoPE)");
  const int expert = ExpertHidden(h);
  if (expert < 2 || expert % 2 != 0)
    return InvalidArgument("SmolVLA config: expert width " + std::to_string(expert) +
                           " (text hidden_size x expert_width_multiplier) must be even and >= 2 (time embedding)");
  if (f.cameras.empty()) return InvalidArgument("SmolVLA needs at least one camera");
  if (f.state_dim < 1) return InvalidArgument("SmolVLA needs observation.state");
  if (f.state_dim > h.max_state_dim || f.action_dim > h.max_action_dim)
    return InvalidArgument("SmolVLA config: state/action widths (" + std::to_string(f.state_dim) + "/" +
                           std::to_string(f.action_dim) + ") exceed max_state_dim/max_action_dim");
  if (!(h.optimizer_lr > 0) || !(h.optimizer_weight_decay >= 0) || !(h.optimizer_eps > 0) ||
      !(h.optimizer_beta1 >= 0 && h.optimizer_beta1 < 1) || !(h.optimizer_beta2 >= 0 && h.optimizer_beta2 < 1))
    return InvalidArgument("SmolVLA config: optimizer_lr > 0, weight decay >= 0, eps > 0 and betas in [0, 1) required");
  if (h.scheduler_warmup_steps < 0 || h.scheduler_decay_steps < 1 || !(h.scheduler_decay_lr >= 0))
    return InvalidArgument("SmolVLA config: scheduler_warmup_steps >= 0, scheduler_decay_steps >= 1, decay_lr >= 0");
  return Status::Ok();
}

namespace {
io::Json Feature(const char* type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }
}  // namespace

io::Json MakeSmolVlaConfigJson(const SmolVlaHparams& h, const TrainFeatures& f) {
  io::Json inputs = io::Json::object();
  inputs["observation.state"] = Feature("STATE", {f.state_dim});
  for (const std::string& cam : f.cameras) inputs[cam] = Feature("VISUAL", {3, f.height, f.width});
  const int size = h.vlm.vision.image_size;
  return {{"type", "smolvla"},
          {"n_obs_steps", 1},
          {"input_features", inputs},
          {"output_features", {{"action", Feature("ACTION", {f.action_dim})}}},
          {"device", "cpu"},
          {"use_amp", false},
          {"use_peft", false},
          {"push_to_hub", false},
          {"repo_id", nullptr},
          {"private", nullptr},
          {"tags", nullptr},
          {"license", nullptr},
          {"pretrained_path", nullptr},
          {"chunk_size", h.chunk_size},
          {"n_action_steps", h.n_action_steps},
          {"normalization_mapping", {{"VISUAL", "IDENTITY"}, {"STATE", "MEAN_STD"}, {"ACTION", "MEAN_STD"}}},
          {"max_state_dim", h.max_state_dim},
          {"max_action_dim", h.max_action_dim},
          {"resize_imgs_with_padding", {size, size}},
          {"empty_cameras", 0},
          {"adapt_to_pi_aloha", false},
          {"use_delta_joint_actions_aloha", false},
          {"tokenizer_max_length", h.tokenizer_max_length},
          {"num_steps", h.num_steps},
          {"use_cache", true},
          {"freeze_vision_encoder", h.freeze_vision_encoder},
          {"train_expert_only", h.train_expert_only},
          {"train_state_proj", h.train_state_proj},
          {"optimizer_lr", h.optimizer_lr},
          {"optimizer_betas", {h.optimizer_beta1, h.optimizer_beta2}},
          {"optimizer_eps", h.optimizer_eps},
          {"optimizer_weight_decay", h.optimizer_weight_decay},
          {"optimizer_grad_clip_norm", h.optimizer_grad_clip_norm},
          {"scheduler_warmup_steps", h.scheduler_warmup_steps},
          {"scheduler_decay_steps", h.scheduler_decay_steps},
          {"scheduler_decay_lr", h.scheduler_decay_lr},
          {"vlm_model_name", "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"},
          {"load_vlm_weights", false},
          {"add_image_special_tokens", false},
          {"attention_mode", "cross_attn"},
          {"prefix_length", -1},
          {"pad_language_to", h.pad_language_to},
          {"num_expert_layers", -1},
          {"num_vlm_layers", h.num_vlm_layers},
          {"self_attn_every_n_layers", h.self_attn_every_n_layers},
          {"expert_width_multiplier", h.expert_width_multiplier},
          {"min_period", h.min_period},
          {"max_period", h.max_period},
          {"rtc_config", nullptr},
          {"compile_model", false},
          {"compile_mode", "max-autotune"}};
}

io::Json MakeVlmConfigJson(const sv::VlmConfig& v) {
  return {{"model_type", "smolvlm"},
          {"scale_factor", v.scale_factor},
          {"vocab_size", v.text.vocab},
          {"tie_word_embeddings", false},
          {"vision_config",
           {{"model_type", "smolvlm_vision"}, {"hidden_size", v.vision.hidden}, {"num_hidden_layers", v.vision.layers},
            {"num_attention_heads", v.vision.heads}, {"intermediate_size", v.vision.intermediate},
            {"patch_size", v.vision.patch}, {"image_size", v.vision.image_size}, {"num_channels", 3},
            {"layer_norm_eps", v.vision.eps}, {"hidden_act", "gelu_pytorch_tanh"}, {"attention_dropout", 0.0}}},
          {"text_config",
           {{"model_type", "llama"}, {"hidden_size", v.text.hidden}, {"num_hidden_layers", v.text.layers},
            {"num_attention_heads", v.text.heads}, {"num_key_value_heads", v.text.kv_heads},
            {"head_dim", v.text.head_dim}, {"intermediate_size", v.text.intermediate}, {"rms_norm_eps", v.text.eps},
            {"vocab_size", v.text.vocab}, {"hidden_act", "silu"}, {"attention_bias", false}, {"mlp_bias", false},
            {"tie_word_embeddings", false}}}};
}

Status ReadSmolVlaConfig(const std::string& dir, SmolVlaHparams* h, TrainFeatures* f) {
  // The runtime's parser reads the architecture (and checks it against the backbone config), so
  // what trains is what `embody infer` will build.
  EMBODY_ASSIGN_OR_RETURN(sv::SmolVlaConfig c, sv::LoadSmolVlaConfig(dir));
  const std::string path = dir + "/config.json";
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  h->chunk_size = c.chunk_size;
  h->n_action_steps = c.n_action_steps;
  h->num_steps = c.num_steps;
  h->max_state_dim = c.max_state_dim;
  h->max_action_dim = c.max_action_dim;
  h->tokenizer_max_length = c.tokenizer_max_length;
  h->pad_language_to = c.pad_to_max_length ? "max_length" : "longest";
  h->num_vlm_layers = c.num_layers;
  h->self_attn_every_n_layers = c.self_attn_every_n_layers;
  h->expert_width_multiplier = c.expert_width_multiplier;
  h->min_period = c.min_period;
  h->max_period = c.max_period;
  h->vlm = c.vlm;
  auto boolean = [&](const char* key, bool* out) -> Status {
    if (!j.contains(key) || j[key].is_null()) return Status::Ok();
    if (!j[key].is_boolean()) return InvalidArgument(path + ": field '" + key + "': expected true or false");
    *out = j[key].get<bool>();
    return Status::Ok();
  };
  auto number = [&](const char* key, auto* out) -> Status {
    if (!j.contains(key) || j[key].is_null()) return Status::Ok();
    if (!j[key].is_number()) return InvalidArgument(path + ": field '" + key + "': expected a number");
    *out = j[key].get<std::remove_pointer_t<decltype(out)>>();
    return Status::Ok();
  };
  EMBODY_TRY(boolean("freeze_vision_encoder", &h->freeze_vision_encoder));
  EMBODY_TRY(boolean("train_expert_only", &h->train_expert_only));
  EMBODY_TRY(boolean("train_state_proj", &h->train_state_proj));
  EMBODY_TRY(number("optimizer_lr", &h->optimizer_lr));
  EMBODY_TRY(number("optimizer_eps", &h->optimizer_eps));
  EMBODY_TRY(number("optimizer_weight_decay", &h->optimizer_weight_decay));
  EMBODY_TRY(number("optimizer_grad_clip_norm", &h->optimizer_grad_clip_norm));
  EMBODY_TRY(number("scheduler_warmup_steps", &h->scheduler_warmup_steps));
  EMBODY_TRY(number("scheduler_decay_steps", &h->scheduler_decay_steps));
  EMBODY_TRY(number("scheduler_decay_lr", &h->scheduler_decay_lr));
  if (j.contains("optimizer_betas") && !j["optimizer_betas"].is_null()) {
    const auto& b = j["optimizer_betas"];
    if (!b.is_array() || b.size() != 2 || !b[0].is_number() || !b[1].is_number())
      return InvalidArgument(path + ": field 'optimizer_betas': expected [beta1, beta2]");
    h->optimizer_beta1 = b[0].get<double>();
    h->optimizer_beta2 = b[1].get<double>();
  }
  *f = TrainFeatures{};
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const auto& cam = c.camera(i);
    if (i > 0 && (cam.shape[1] != f->height || cam.shape[2] != f->width))
      return Unimplemented(path + ": " + cam.key + ": cameras of different sizes are not trained here (one batch tensor)");
    f->cameras.push_back(cam.key);
    f->height = static_cast<int>(cam.shape[1]);
    f->width = static_cast<int>(cam.shape[2]);
  }
  f->state_dim = static_cast<int>(c.state_dim());
  f->action_dim = static_cast<int>(c.action_dim());
  return ValidateSmolVlaHparams(*h, *f);
}

}  // namespace embody::train
