#include "models/smolvla/smolvla_seeded_checkpoint.h"

#include <filesystem>

#include "core/seeded.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "models/smolvla/smolvla_weights.h"

namespace embody::models::smolvla {

namespace fs = std::filesystem;

namespace {
io::Json Feature(const char* type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }
}  // namespace

Status WriteSeededSmolVlaCheckpoint(const std::string& dir, const SeededSmolVlaSpec& s) {
  std::error_code ec;
  fs::create_directories(dir + "/tokenizer", ec);
  if (ec) return IoError(dir + ": cannot create directory: " + ec.message());
  const VlmConfig& v = s.vlm;
  io::Json inputs = io::Json::object();
  inputs["observation.state"] = Feature("STATE", {s.state_dim});
  for (const auto& cam : s.cameras) inputs["observation.images." + cam] = Feature("VISUAL", {3, s.height, s.width});
  io::Json config = {{"type", "smolvla"},
                     {"n_obs_steps", 1},
                     {"input_features", inputs},
                     {"output_features", {{"action", Feature("ACTION", {s.action_dim})}}},
                     {"device", "cpu"},
                     {"chunk_size", s.chunk_size},
                     {"n_action_steps", s.n_action_steps},
                     {"normalization_mapping", {{"VISUAL", "IDENTITY"}, {"STATE", "MEAN_STD"}, {"ACTION", "MEAN_STD"}}},
                     {"max_state_dim", 32},
                     {"max_action_dim", 32},
                     {"resize_imgs_with_padding", {v.vision.image_size, v.vision.image_size}},
                     {"empty_cameras", 0},
                     {"tokenizer_max_length", 48},
                     {"num_steps", s.num_steps},
                     {"use_cache", true},
                     {"vlm_model_name", "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"},
                     {"attention_mode", "cross_attn"},
                     {"pad_language_to", "longest"},
                     {"num_expert_layers", -1},
                     {"num_vlm_layers", s.num_vlm_layers},
                     {"self_attn_every_n_layers", 2},
                     {"expert_width_multiplier", 0.75},
                     {"min_period", 4e-3},
                     {"max_period", 4.0}};
  EMBODY_TRY(io::WriteJsonFile(dir + "/config.json", config));
  io::Json vlm = {{"model_type", "smolvlm"},
                  {"scale_factor", v.scale_factor},
                  {"vision_config",
                   {{"hidden_size", v.vision.hidden}, {"num_hidden_layers", v.vision.layers}, {"num_attention_heads", v.vision.heads},
                    {"intermediate_size", v.vision.intermediate}, {"patch_size", v.vision.patch}, {"image_size", v.vision.image_size},
                    {"layer_norm_eps", v.vision.eps}, {"hidden_act", "gelu_pytorch_tanh"}}},
                  {"text_config",
                   {{"hidden_size", v.text.hidden}, {"num_hidden_layers", v.text.layers}, {"num_attention_heads", v.text.heads},
                    {"num_key_value_heads", v.text.kv_heads}, {"head_dim", v.text.head_dim},
                    {"intermediate_size", v.text.intermediate}, {"rms_norm_eps", v.text.eps}, {"vocab_size", v.text.vocab},
                    {"hidden_act", "silu"}}}};
  EMBODY_TRY(io::WriteJsonFile(dir + "/vlm_config.json", vlm));
  for (const char* f : {"tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json"}) {
    const fs::path src = fs::path(s.tokenizer_dir) / f;
    if (!fs::exists(src)) {
      if (std::string(f) == "tokenizer.json") return NotFound(src.string() + ": tokenizer file missing");
      continue;
    }
    fs::copy_file(src, fs::path(dir) / "tokenizer" / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError(src.string() + ": copy failed: " + ec.message());
  }
  EMBODY_ASSIGN_OR_RETURN(SmolVlaConfig c, LoadSmolVlaConfig(dir));

  const WeightTable table = MakeSmolVlaWeightTable(c);
  std::vector<Tensor> keep;
  io::SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  for (const auto& [key, shape] : table.expected()) {
    Tensor t = Tensor::Empty(DType::kF32, shape);
    seeded::FillWeight(key, shape, s.seed, t.data<float>());
    keep.push_back(t);
    writer.Add(key, keep.back());
  }
  EMBODY_TRY(writer.Write(dir + "/model.safetensors"));

  std::vector<std::pair<std::string, Tensor>> stats;
  for (const auto& [feature, n] : {std::pair<std::string, int>{"observation.state", s.state_dim}, {"action", s.action_dim}})
    for (const char* k : {"mean", "std"}) {
      Tensor t = Tensor::Empty(DType::kF32, {n});
      seeded::FillStat(feature, k, n, t.data<float>());
      stats.emplace_back(feature + "." + k, t);
    }
  const std::string pre_file = "policy_preprocessor_step_5_normalizer_processor.safetensors";
  const std::string post_file = "policy_postprocessor_step_0_unnormalizer_processor.safetensors";
  for (const std::string& f : {pre_file, post_file}) {
    io::SafetensorsWriter w;
    for (const auto& [name, t] : stats) w.Add(name, t);
    EMBODY_TRY(w.Write(dir + "/" + f));
  }
  const io::Json norm_map = {{"VISUAL", "IDENTITY"}, {"STATE", "MEAN_STD"}, {"ACTION", "MEAN_STD"}};
  io::Json pre = {{"name", "policy_preprocessor"},
                  {"steps", {{{"registry_name", "normalizer_processor"}, {"config", {{"eps", 1e-8}, {"norm_map", norm_map}}}, {"state_file", pre_file}}}}};
  io::Json post = {{"name", "policy_postprocessor"},
                   {"steps", {{{"registry_name", "unnormalizer_processor"}, {"config", {{"eps", 1e-8}, {"norm_map", norm_map}}}, {"state_file", post_file}}}}};
  EMBODY_TRY(io::WriteJsonFile(dir + "/policy_preprocessor.json", pre));
  EMBODY_TRY(io::WriteJsonFile(dir + "/policy_postprocessor.json", post));
  return Status::Ok();
}

}  // namespace embody::models::smolvla
