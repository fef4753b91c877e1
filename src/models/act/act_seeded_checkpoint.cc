#include "models/act/act_seeded_checkpoint.h"

#include <filesystem>

#include "core/seeded.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "models/act/act_weights.h"

namespace embody::models::act {

namespace {

io::Json Feature(const char* type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }

io::Json MakeConfig(const SeededActSpec& s) {
  io::Json inputs = io::Json::object();
  if (s.state_dim > 0) inputs["observation.state"] = Feature("STATE", {s.state_dim});
  for (const auto& cam : s.cameras) inputs["observation.images." + cam] = Feature("VISUAL", {3, s.height, s.width});
  io::Json j = {{"type", "act"},
                {"n_obs_steps", 1},
                {"input_features", inputs},
                {"output_features", {{"action", Feature("ACTION", {s.action_dim})}}},
                {"device", "cpu"},
                {"chunk_size", s.chunk_size},
                {"n_action_steps", s.n_action_steps},
                {"normalization_mapping", {{"VISUAL", "MEAN_STD"}, {"STATE", "MEAN_STD"}, {"ACTION", "MEAN_STD"}}},
                {"vision_backbone", "resnet18"},
                {"pretrained_backbone_weights", nullptr},
                {"replace_final_stride_with_dilation", false},
                {"pre_norm", false},
                {"dim_model", s.dim_model},
                {"n_heads", s.n_heads},
                {"dim_feedforward", s.dim_feedforward},
                {"feedforward_activation", "relu"},
                {"n_encoder_layers", s.n_encoder_layers},
                {"n_decoder_layers", s.n_decoder_layers},
                {"use_vae", true},
                {"latent_dim", 32},
                {"n_vae_encoder_layers", 4},
                {"temporal_ensemble_coeff", nullptr},
                {"dropout", 0.1},
                {"kl_weight", 10.0}};
  return j;
}

// Stats: state/action from the seeded rule, images ImageNet's (LeRobot's default).
struct Stat {
  std::string name;
  Tensor value;
};
std::vector<Stat> MakeStats(const SeededActSpec& s) {
  std::vector<Stat> out;
  auto vec = [&](const std::string& feature, int n) {
    for (const char* k : {"mean", "std"}) {
      Tensor t = Tensor::Empty(DType::kF32, {n});
      seeded::FillStat(feature, k, n, t.data<float>());
      out.push_back({feature + "." + k, t});
    }
  };
  if (s.state_dim > 0) vec("observation.state", s.state_dim);
  vec("action", s.action_dim);
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (const auto& cam : s.cameras) {
    Tensor m = Tensor::Empty(DType::kF32, {3, 1, 1}), d = Tensor::Empty(DType::kF32, {3, 1, 1});
    for (int i = 0; i < 3; ++i) {
      m.data<float>()[i] = mean[i];
      d.data<float>()[i] = std[i];
    }
    out.push_back({"observation.images." + cam + ".mean", m});
    out.push_back({"observation.images." + cam + ".std", d});
  }
  return out;
}

io::Json NormalizerStep(const char* registry, const SeededActSpec& s, bool inputs, const std::string& file) {
  io::Json features = io::Json::object();
  if (inputs) {
    if (s.state_dim > 0) features["observation.state"] = Feature("STATE", {s.state_dim});
    for (const auto& cam : s.cameras) features["observation.images." + cam] = Feature("VISUAL", {3, s.height, s.width});
  }
  features["action"] = Feature("ACTION", {s.action_dim});
  return {{"registry_name", registry},
          {"config", {{"eps", 1e-8}, {"features", features},
                      {"norm_map", {{"VISUAL", "MEAN_STD"}, {"STATE", "MEAN_STD"}, {"ACTION", "MEAN_STD"}}}}},
          {"state_file", file}};
}

}  // namespace

Status WriteSeededActCheckpoint(const std::string& dir, const SeededActSpec& spec) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(dir + ": cannot create directory: " + ec.message());
  const io::Json config = MakeConfig(spec);
  EMBODY_TRY(io::WriteJsonFile(dir + "/config.json", config));
  EMBODY_ASSIGN_OR_RETURN(ActConfig c, ParseActConfig(config, dir + "/config.json"));

  // Inference tensors from the weight table, plus the training-only VAE encoder.
  WeightTable table = MakeActWeightTable(c);
  std::vector<std::pair<std::string, Shape>> all = table.expected();
  const int64_t d = c.dim_model, f = c.dim_feedforward;
  for (int i = 0; i < 4; ++i) {
    const std::string p = "model.vae_encoder.layers." + std::to_string(i);
    all.push_back({p + ".self_attn.in_proj_weight", {3 * d, d}});
    all.push_back({p + ".self_attn.in_proj_bias", {3 * d}});
    all.push_back({p + ".self_attn.out_proj.weight", {d, d}});
    all.push_back({p + ".self_attn.out_proj.bias", {d}});
    all.push_back({p + ".linear1.weight", {f, d}});
    all.push_back({p + ".linear1.bias", {f}});
    all.push_back({p + ".linear2.weight", {d, f}});
    all.push_back({p + ".linear2.bias", {d}});
    for (const char* n : {".norm1", ".norm2"}) {
      all.push_back({p + n + ".weight", {d}});
      all.push_back({p + n + ".bias", {d}});
    }
  }
  all.push_back({"model.vae_encoder_cls_embed.weight", {1, d}});
  all.push_back({"model.vae_encoder_action_input_proj.weight", {d, c.action_dim()}});
  all.push_back({"model.vae_encoder_action_input_proj.bias", {d}});
  all.push_back({"model.vae_encoder_latent_output_proj.weight", {2 * c.latent_dim, d}});
  all.push_back({"model.vae_encoder_latent_output_proj.bias", {2 * c.latent_dim}});

  std::vector<Tensor> keep;
  io::SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  for (const auto& [key, shape] : all) {
    Tensor t = Tensor::Empty(DType::kF32, shape);
    seeded::FillWeight(key, shape, spec.seed, t.data<float>());
    if (spec.bf16) {
      Tensor b = Tensor::Empty(DType::kBF16, shape);
      for (int64_t i = 0; i < t.numel(); ++i) b.data<uint16_t>()[i] = F32ToBf16(t.data<float>()[i]);
      t = b;
    }
    keep.push_back(t);
    writer.Add(key, keep.back());
  }
  const std::vector<Stat> stats = MakeStats(spec);
  if (spec.legacy_layout) {
    for (const Stat& s : stats) {
      const size_t dot = s.name.rfind('.');
      std::string feature = s.name.substr(0, dot);
      for (char& ch : feature)
        if (ch == '.') ch = '_';
      const std::string stat = s.name.substr(dot);
      if (feature == "action") {
        writer.Add("normalize_targets.buffer_action" + stat, s.value);
        writer.Add("unnormalize_outputs.buffer_action" + stat, s.value);
      } else {
        writer.Add("normalize_inputs.buffer_" + feature + stat, s.value);
      }
    }
  }
  EMBODY_TRY(writer.Write(dir + "/model.safetensors"));
  if (spec.legacy_layout) return Status::Ok();

  const std::string pre_file = "policy_preprocessor_step_3_normalizer_processor.safetensors";
  const std::string post_file = "policy_postprocessor_step_0_unnormalizer_processor.safetensors";
  for (const std::string& file : {pre_file, post_file}) {
    io::SafetensorsWriter w;
    for (const Stat& s : stats) w.Add(s.name, s.value);
    EMBODY_TRY(w.Write(dir + "/" + file));
  }
  io::Json pre = {{"name", "policy_preprocessor"},
                  {"steps", {{{"registry_name", "rename_observations_processor"}, {"config", {{"rename_map", io::Json::object()}}}},
                             {{"registry_name", "to_batch_processor"}, {"config", io::Json::object()}},
                             {{"registry_name", "device_processor"}, {"config", {{"device", "cpu"}, {"float_dtype", nullptr}}}},
                             NormalizerStep("normalizer_processor", spec, true, pre_file)}}};
  io::Json post = {{"name", "policy_postprocessor"},
                   {"steps", {NormalizerStep("unnormalizer_processor", spec, false, post_file),
                              {{"registry_name", "device_processor"}, {"config", {{"device", "cpu"}, {"float_dtype", nullptr}}}}}}};
  EMBODY_TRY(io::WriteJsonFile(dir + "/policy_preprocessor.json", pre));
  EMBODY_TRY(io::WriteJsonFile(dir + "/policy_postprocessor.json", post));
  return Status::Ok();
}

}  // namespace embody::models::act
