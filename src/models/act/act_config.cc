#include "models/act/act_config.h"

#include <set>

namespace embody::models::act {

namespace {

// Fields of LeRobot's PreTrainedConfig and ACTConfig across 0.3 - 0.6 that do not change inference.
const std::set<std::string> kIgnoredFields = {
    "type", "n_obs_steps", "device", "use_amp", "use_peft", "push_to_hub", "repo_id", "private", "tags",
    "license", "pretrained_path", "pretrained_revision", "pretrained_backbone_weights", "dropout",
    "kl_weight", "optimizer_lr", "optimizer_weight_decay", "optimizer_lr_backbone", "input_features",
    "output_features", "normalization_mapping"};

class Reader {
 public:
  Reader(const io::Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  template <typename T>
  Status Int(const char* key, T& out, int min_value = 1) {
    if (!j_.contains(key) || j_[key].is_null()) return Status::Ok();
    const auto& v = j_[key];
    if (!v.is_number_integer() && !v.is_boolean())
      return InvalidArgument(path_ + ": field '" + key + "': expected an integer, got " + v.type_name());
    const int64_t x = v.get<int64_t>();
    if (x < min_value)
      return InvalidArgument(path_ + ": field '" + key + "': " + std::to_string(x) + " is below " + std::to_string(min_value));
    out = static_cast<T>(x);
    seen_.insert(key);
    return Status::Ok();
  }
  Status Bool(const char* key, bool& out) {
    if (!j_.contains(key) || j_[key].is_null()) return Status::Ok();
    const auto& v = j_[key];
    if (!v.is_boolean() && !v.is_number_integer())
      return InvalidArgument(path_ + ": field '" + key + "': expected a boolean, got " + v.type_name());
    out = v.is_boolean() ? v.get<bool>() : v.get<int64_t>() != 0;
    seen_.insert(key);
    return Status::Ok();
  }
  Status String(const char* key, std::string& out) {
    if (!j_.contains(key) || j_[key].is_null()) return Status::Ok();
    if (!j_[key].is_string())
      return InvalidArgument(path_ + ": field '" + key + "': expected a string, got " + j_[key].type_name());
    out = j_[key].get<std::string>();
    seen_.insert(key);
    return Status::Ok();
  }
  bool Seen(const std::string& k) const { return seen_.count(k) > 0; }
  void Mark(const std::string& k) { seen_.insert(k); }

 private:
  const io::Json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace

Status ResolveFeatures(ActConfig& c, const std::string& path) {
  c.camera_index.clear();
  c.state_index = c.env_state_index = c.action_index = -1;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Feature& f = c.inputs[i];
    if (f.type == FeatureType::kVisual) {
      if (f.shape.size() != 3 || f.shape[0] != 3)
        return InvalidArgument(path + ": input_features." + f.key + ": VISUAL shape must be [3, H, W]");
      c.camera_index.push_back(static_cast<int>(i));
    } else if (f.key == "observation.state") {
      if (f.shape.size() != 1) return InvalidArgument(path + ": input_features.observation.state: shape must be [dim]");
      c.state_index = static_cast<int>(i);
    } else if (f.key == "observation.environment_state") {
      if (f.shape.size() != 1) return InvalidArgument(path + ": observation.environment_state: shape must be [dim]");
      c.env_state_index = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < c.outputs.size(); ++i)
    if (c.outputs[i].key == "action") c.action_index = static_cast<int>(i);
  if (c.action_index < 0 || c.action().shape.size() != 1)
    return InvalidArgument(path + ": output_features must contain 'action' with shape [dim]");
  if (c.camera_index.empty() && c.env_state_index < 0)
    return InvalidArgument(path + ": ACT needs at least one VISUAL input or observation.environment_state");
  for (size_t i = 0; i < c.num_cameras(); ++i)
    if (c.camera(i).shape != c.camera(0).shape)
      return InvalidArgument(path + ": all cameras must have the same shape (" + c.camera(i).key + " differs from " +
                             c.camera(0).key + ")");
  return Status::Ok();
}

Result<ActConfig> ParseActConfig(const io::Json& j, const std::string& path) {
  if (!j.is_object()) return InvalidArgument(path + ": expected a JSON object");
  if (!j.contains("type") || !j["type"].is_string())
    return InvalidArgument(path + ": missing \"type\" (pre-2025 LeRobot configs without a type are not supported; "
                           "convert them with LeRobot's migration script)");
  const std::string type = j["type"].get<std::string>();
  if (type != "act") return InvalidArgument(path + ": policy type is \"" + type + "\", expected \"act\"");

  ActConfig c;
  Reader r(j, path);
  EMBODY_TRY(r.Int("chunk_size", c.chunk_size));
  EMBODY_TRY(r.Int("n_action_steps", c.n_action_steps));
  EMBODY_TRY(r.String("vision_backbone", c.vision_backbone));
  EMBODY_TRY(r.Bool("replace_final_stride_with_dilation", c.replace_final_stride_with_dilation));
  EMBODY_TRY(r.Bool("pre_norm", c.pre_norm));
  EMBODY_TRY(r.Int("dim_model", c.dim_model));
  EMBODY_TRY(r.Int("n_heads", c.n_heads));
  EMBODY_TRY(r.Int("dim_feedforward", c.dim_feedforward));
  EMBODY_TRY(r.Int("n_encoder_layers", c.n_encoder_layers));
  EMBODY_TRY(r.Int("n_decoder_layers", c.n_decoder_layers));
  EMBODY_TRY(r.Bool("use_vae", c.use_vae));
  EMBODY_TRY(r.Int("latent_dim", c.latent_dim));
  EMBODY_TRY(r.Int("n_vae_encoder_layers", c.n_vae_encoder_layers, 0));
  std::string activation = "relu";
  EMBODY_TRY(r.String("feedforward_activation", activation));
  if (activation == "relu") c.feedforward_activation = kernels::Activation::kRelu;
  else if (activation == "gelu") c.feedforward_activation = kernels::Activation::kGelu;
  else return Unimplemented(path + ": field 'feedforward_activation': \"" + activation + "\" is not supported (relu, gelu)");
  if (j.contains("temporal_ensemble_coeff") && !j["temporal_ensemble_coeff"].is_null()) {
    if (!j["temporal_ensemble_coeff"].is_number())
      return InvalidArgument(path + ": field 'temporal_ensemble_coeff': expected a number or null");
    c.temporal_ensemble_coeff = j["temporal_ensemble_coeff"].get<double>();
  }
  if (j.contains("n_obs_steps") && j["n_obs_steps"].is_number_integer() && j["n_obs_steps"].get<int>() != 1)
    return Unimplemented(path + ": field 'n_obs_steps': ACT supports only 1");

  if (!j.contains("input_features")) return InvalidArgument(path + ": missing 'input_features'");
  if (!j.contains("output_features")) return InvalidArgument(path + ": missing 'output_features'");
  EMBODY_ASSIGN_OR_RETURN(c.inputs, ParseFeatures(j["input_features"], path + ": input_features"));
  EMBODY_ASSIGN_OR_RETURN(c.outputs, ParseFeatures(j["output_features"], path + ": output_features"));
  if (j.contains("normalization_mapping")) {
    EMBODY_ASSIGN_OR_RETURN(c.normalization, ParseNormMapping(j["normalization_mapping"], path + ": normalization_mapping"));
  } else {
    c.normalization.visual = c.normalization.state = c.normalization.action = NormMode::kMeanStd;
  }

  for (auto it = j.begin(); it != j.end(); ++it)
    if (!r.Seen(it.key()) && !kIgnoredFields.count(it.key()) && it.key() != "temporal_ensemble_coeff" &&
        it.key() != "feedforward_activation")
      c.unknown_fields.push_back(it.key());

  // Validation, in LeRobot's terms.
  if (c.vision_backbone != "resnet18" && c.vision_backbone != "resnet34")
    return Unimplemented(path + ": field 'vision_backbone': \"" + c.vision_backbone +
                         "\" is not supported (resnet18, resnet34)");
  if (c.replace_final_stride_with_dilation)
    return Unimplemented(path + ": field 'replace_final_stride_with_dilation': torchvision's BasicBlock "
                         "(resnet18/34) does not support dilation, so LeRobot cannot build this model either");
  if (c.dim_model % c.n_heads != 0)
    return InvalidArgument(path + ": dim_model " + std::to_string(c.dim_model) + " is not divisible by n_heads " +
                           std::to_string(c.n_heads));
  if (c.dim_model % 2 != 0) return InvalidArgument(path + ": dim_model must be even (2D sinusoidal embedding)");
  if (c.n_action_steps > c.chunk_size)
    return InvalidArgument(path + ": n_action_steps " + std::to_string(c.n_action_steps) + " exceeds chunk_size " +
                           std::to_string(c.chunk_size));
  if (c.temporal_ensemble_coeff && c.n_action_steps != 1)
    return InvalidArgument(path + ": temporal ensembling requires n_action_steps == 1 (got " +
                           std::to_string(c.n_action_steps) + ")");

  EMBODY_TRY(ResolveFeatures(c, path));
  return c;
}

Result<ActConfig> LoadActConfig(const std::string& path) {
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  return ParseActConfig(j, path);
}

}  // namespace embody::models::act
