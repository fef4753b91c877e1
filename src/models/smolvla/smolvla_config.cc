#include "models/smolvla/smolvla_config.h"

#include <cmath>
#include <set>

namespace embody::models::smolvla {

int ExpertIntermediateSize(int hidden) {
  int h = static_cast<int>(2 * hidden / 3);
  h = 4 * h;
  return 256 * ((h + 255) / 256);
}

namespace {

const std::set<std::string> kIgnored = {
    "type", "n_obs_steps", "device", "use_amp", "use_peft", "push_to_hub", "repo_id", "private", "tags", "license",
    "pretrained_path", "pretrained_revision", "input_features", "output_features", "normalization_mapping",
    "use_delta_joint_actions_aloha", "use_cache", "freeze_vision_encoder", "train_expert_only", "train_state_proj",
    "optimizer_lr", "optimizer_betas", "optimizer_eps", "optimizer_weight_decay", "optimizer_grad_clip_norm",
    "scheduler_warmup_steps", "scheduler_decay_steps", "scheduler_decay_lr", "load_vlm_weights", "prefix_length",
    "empty_cameras", "rtc_config", "compile_model", "compile_mode", "num_expert_layers", "attention_mode",
    "add_image_special_tokens", "adapt_to_pi_aloha", "resize_imgs_with_padding", "pad_language_to"};

template <typename T>
Status Num(const io::Json& j, const char* key, T& out, const std::string& path, std::set<std::string>& seen) {
  if (!j.contains(key) || j[key].is_null()) return Status::Ok();
  if (!j[key].is_number())
    return InvalidArgument(path + ": field '" + key + "': expected a number, got " + j[key].type_name());
  out = j[key].get<T>();
  seen.insert(key);
  return Status::Ok();
}

}  // namespace

Status ApplyVlmConfig(const io::Json& j, const std::string& path, VlmConfig& vlm) {
  std::set<std::string> seen;
  if (j.contains("vision_config")) {
    const auto& v = j["vision_config"];
    EMBODY_TRY(Num(v, "hidden_size", vlm.vision.hidden, path + ": vision_config", seen));
    EMBODY_TRY(Num(v, "num_hidden_layers", vlm.vision.layers, path + ": vision_config", seen));
    EMBODY_TRY(Num(v, "num_attention_heads", vlm.vision.heads, path + ": vision_config", seen));
    EMBODY_TRY(Num(v, "intermediate_size", vlm.vision.intermediate, path + ": vision_config", seen));
    EMBODY_TRY(Num(v, "patch_size", vlm.vision.patch, path + ": vision_config", seen));
    EMBODY_TRY(Num(v, "image_size", vlm.vision.image_size, path + ": vision_config", seen));
    EMBODY_TRY(Num(v, "layer_norm_eps", vlm.vision.eps, path + ": vision_config", seen));
    if (v.contains("hidden_act") && v["hidden_act"] != "gelu_pytorch_tanh")
      return Unimplemented(path + ": vision_config.hidden_act " + v["hidden_act"].dump() + " (only gelu_pytorch_tanh)");
  }
  if (j.contains("text_config")) {
    const auto& t = j["text_config"];
    EMBODY_TRY(Num(t, "hidden_size", vlm.text.hidden, path + ": text_config", seen));
    EMBODY_TRY(Num(t, "num_hidden_layers", vlm.text.layers, path + ": text_config", seen));
    EMBODY_TRY(Num(t, "num_attention_heads", vlm.text.heads, path + ": text_config", seen));
    EMBODY_TRY(Num(t, "num_key_value_heads", vlm.text.kv_heads, path + ": text_config", seen));
    EMBODY_TRY(Num(t, "intermediate_size", vlm.text.intermediate, path + ": text_config", seen));
    EMBODY_TRY(Num(t, "rms_norm_eps", vlm.text.eps, path + ": text_config", seen));
    EMBODY_TRY(Num(t, "vocab_size", vlm.text.vocab, path + ": text_config", seen));
    vlm.text.head_dim = vlm.text.hidden / vlm.text.heads;
    EMBODY_TRY(Num(t, "head_dim", vlm.text.head_dim, path + ": text_config", seen));
    if (t.contains("hidden_act") && t["hidden_act"] != "silu")
      return Unimplemented(path + ": text_config.hidden_act " + t["hidden_act"].dump() + " (only silu)");
  }
  EMBODY_TRY(Num(j, "scale_factor", vlm.scale_factor, path, seen));
  vlm.source = path;
  return Status::Ok();
}

Result<SmolVlaConfig> ParseSmolVlaConfig(const io::Json& j, const std::string& path) {
  if (!j.is_object()) return InvalidArgument(path + ": expected a JSON object");
  if (!j.contains("type") || !j["type"].is_string()) return InvalidArgument(path + ": missing \"type\"");
  if (j["type"] != "smolvla")
    return InvalidArgument(path + ": policy type is " + j["type"].dump() + ", expected \"smolvla\"");
  SmolVlaConfig c;
  std::set<std::string> seen;
  EMBODY_TRY(Num(j, "chunk_size", c.chunk_size, path, seen));
  EMBODY_TRY(Num(j, "n_action_steps", c.n_action_steps, path, seen));
  EMBODY_TRY(Num(j, "max_state_dim", c.max_state_dim, path, seen));
  EMBODY_TRY(Num(j, "max_action_dim", c.max_action_dim, path, seen));
  EMBODY_TRY(Num(j, "tokenizer_max_length", c.tokenizer_max_length, path, seen));
  EMBODY_TRY(Num(j, "num_steps", c.num_steps, path, seen));
  EMBODY_TRY(Num(j, "num_vlm_layers", c.num_vlm_layers, path, seen));
  EMBODY_TRY(Num(j, "self_attn_every_n_layers", c.self_attn_every_n_layers, path, seen));
  EMBODY_TRY(Num(j, "expert_width_multiplier", c.expert_width_multiplier, path, seen));
  EMBODY_TRY(Num(j, "min_period", c.min_period, path, seen));
  EMBODY_TRY(Num(j, "max_period", c.max_period, path, seen));
  if (j.contains("vlm_model_name") && j["vlm_model_name"].is_string()) {
    c.vlm_model_name = j["vlm_model_name"].get<std::string>();
    seen.insert("vlm_model_name");
  }
  if (j.contains("resize_imgs_with_padding") && !j["resize_imgs_with_padding"].is_null()) {
    const auto& r = j["resize_imgs_with_padding"];
    if (!r.is_array() || r.size() != 2 || !r[0].is_number_integer() || !r[1].is_number_integer())
      return InvalidArgument(path + ": field 'resize_imgs_with_padding': expected [width, height]");
    c.resize_width = r[0].get<int>();
    c.resize_height = r[1].get<int>();
  } else if (j.contains("resize_imgs_with_padding")) {
    return Unimplemented(path + ": resize_imgs_with_padding null (images fed at native size) is not supported");
  }
  if (j.contains("pad_language_to") && j["pad_language_to"].is_string())
    c.pad_to_max_length = j["pad_language_to"] == "max_length";
  if (j.value("attention_mode", std::string("cross_attn")).find("cross") == std::string::npos)
    return Unimplemented(path + ": attention_mode " + j["attention_mode"].dump() + " (only cross_attn)");
  if (j.value("add_image_special_tokens", false))
    return Unimplemented(path + ": add_image_special_tokens true is not supported");
  if (j.value("adapt_to_pi_aloha", false)) return Unimplemented(path + ": adapt_to_pi_aloha true is not supported");
  const int expert_layers = j.value("num_expert_layers", -1);

  if (!j.contains("input_features") || !j.contains("output_features"))
    return InvalidArgument(path + ": missing input_features / output_features");
  EMBODY_ASSIGN_OR_RETURN(c.inputs, ParseFeatures(j["input_features"], path + ": input_features"));
  EMBODY_ASSIGN_OR_RETURN(c.outputs, ParseFeatures(j["output_features"], path + ": output_features"));
  if (j.contains("normalization_mapping")) {
    EMBODY_ASSIGN_OR_RETURN(c.normalization, ParseNormMapping(j["normalization_mapping"], path + ": normalization_mapping"));
  } else {
    c.normalization.state = c.normalization.action = NormMode::kMeanStd;
  }
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!seen.count(it.key()) && !kIgnored.count(it.key())) c.unknown_fields.push_back(it.key());

  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Feature& f = c.inputs[i];
    if (f.type == FeatureType::kVisual) {
      if (f.shape.size() != 3 || f.shape[0] != 3)
        return InvalidArgument(path + ": input_features." + f.key + ": VISUAL shape must be [3, H, W]");
      c.camera_index.push_back(static_cast<int>(i));
    } else if (f.key == "observation.state") {
      c.state_index = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < c.outputs.size(); ++i)
    if (c.outputs[i].key == "action") c.action_index = static_cast<int>(i);
  if (c.action_index < 0) return InvalidArgument(path + ": output_features must contain 'action'");
  if (c.camera_index.empty()) return InvalidArgument(path + ": SmolVLA needs at least one VISUAL input");
  if (c.state_index < 0) return InvalidArgument(path + ": SmolVLA needs observation.state");
  if (c.state_dim() > c.max_state_dim)
    return InvalidArgument(path + ": observation.state has " + std::to_string(c.state_dim()) + " dims > max_state_dim");
  if (c.action_dim() > c.max_action_dim)
    return InvalidArgument(path + ": action has " + std::to_string(c.action_dim()) + " dims > max_action_dim");
  if (c.n_action_steps > c.chunk_size) return InvalidArgument(path + ": n_action_steps exceeds chunk_size");
  if (c.num_steps < 1) return InvalidArgument(path + ": num_steps must be >= 1");
  c.num_layers = c.num_vlm_layers;
  if (expert_layers > 0 && expert_layers != c.num_layers)
    return Unimplemented(path + ": num_expert_layers " + std::to_string(expert_layers) + " differs from num_vlm_layers " +
                         std::to_string(c.num_layers) + " (only equal counts are supported)");
  return c;
}

Result<SmolVlaConfig> LoadSmolVlaConfig(const std::string& dir) {
  const std::string path = dir + "/config.json";
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  EMBODY_ASSIGN_OR_RETURN(SmolVlaConfig c, ParseSmolVlaConfig(j, path));
  const std::string vlm_path = dir + "/vlm_config.json";
  if (io::FileExists(vlm_path)) {
    EMBODY_ASSIGN_OR_RETURN(io::Json v, io::ReadJsonFile(vlm_path));
    EMBODY_TRY(ApplyVlmConfig(v, vlm_path, c.vlm));
  } else if (c.vlm_model_name != "HuggingFaceTB/SmolVLM2-500M-Video-Instruct") {
    return NotFound(dir + ": backbone \"" + c.vlm_model_name +
                    "\" is not built in; put its transformers config.json in the checkpoint as vlm_config.json");
  }
  if (c.num_layers <= 0 || c.num_layers > c.vlm.text.layers) c.num_layers = c.vlm.text.layers;
  c.expert_hidden = static_cast<int>(c.vlm.text.hidden * c.expert_width_multiplier);
  c.expert_intermediate = ExpertIntermediateSize(c.expert_hidden);
  const auto& v = c.vlm.vision;
  if (v.image_size % v.patch != 0 || (v.image_size / v.patch) % c.vlm.scale_factor != 0)
    return InvalidArgument(vlm_path + ": image_size / patch_size must be a multiple of scale_factor");
  if (c.resize_width != v.image_size || c.resize_height != v.image_size)
    return Unimplemented(path + ": resize_imgs_with_padding " + std::to_string(c.resize_width) + "x" +
                         std::to_string(c.resize_height) + " differs from the vision encoder's image_size " +
                         std::to_string(v.image_size));
  if (v.hidden % v.heads != 0) return InvalidArgument(vlm_path + ": vision hidden_size not divisible by heads");
  if (c.vlm.text.heads % c.vlm.text.kv_heads != 0) return InvalidArgument(vlm_path + ": text heads not a multiple of kv heads");
  return c;
}

}  // namespace embody::models::smolvla
