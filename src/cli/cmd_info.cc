// embody info <checkpoint>: what a checkpoint holds and what embody will do with it.
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_type.h"
#include "cli/quant_info.h"
#include "cli/smolvla_commands.h"
#include "io/safetensors.h"
#include "models/act/act_config.h"
#include "models/act/act_weights.h"
#include "models/common/normalizer.h"

namespace embody::cli {

namespace {

struct InfoArgs {
  std::string checkpoint;
  bool json = false;
};

int RunInfo(const InfoArgs& a) {
  using namespace models;
  auto type = PolicyType(a.checkpoint);
  if (!type.ok()) return Fail(type.status());
  if (*type == "smolvla") return RunInfoSmolVla(a.checkpoint, a.json);
  const std::string cfg_path = a.checkpoint + "/config.json";
  auto cfg = act::LoadActConfig(cfg_path);
  if (!cfg.ok()) return Fail(cfg.status());
  auto file = io::SafetensorsFile::Open(a.checkpoint + "/model.safetensors");
  if (!file.ok()) return Fail(file.status());
  WeightTable table = act::MakeActWeightTable(*cfg);
  auto quant = QuantizedSummary(a.checkpoint, "act", table);
  if (!quant.ok()) return Fail(quant.status());
  if (Status st = table.Bind(*file); !st.ok()) return Fail(st);
  auto norm = Normalizer::Load(a.checkpoint, cfg->inputs, cfg->outputs, cfg->normalization, **file);
  if (!norm.ok()) return Fail(norm.status());

  struct Block {
    const char* name;
    const char* prefix;
  };
  const Block blocks[] = {{"backbone", "model.backbone."},
                          {"image projection", "model.encoder_img_feat_input_proj."},
                          {"encoder", "model.encoder."},
                          {"decoder", "model.decoder."},
                          {"1d projections", "model.encoder_"},
                          {"decoder queries", "model.decoder_pos_embed."},
                          {"action head", "model.action_head."}};
  io::Json j;
  j["checkpoint"] = a.checkpoint;
  j["policy"] = "act";
  j["chunk_size"] = cfg->chunk_size;
  j["n_action_steps"] = cfg->n_action_steps;
  j["temporal_ensemble_coeff"] = cfg->temporal_ensemble_coeff ? io::Json(*cfg->temporal_ensemble_coeff) : io::Json();
  j["backbone"] = cfg->vision_backbone;
  j["dim_model"] = cfg->dim_model;
  j["layers"] = {{"encoder", cfg->n_encoder_layers}, {"decoder", cfg->n_decoder_layers}, {"pre_norm", cfg->pre_norm}};
  io::Json inputs = io::Json::array(), outputs = io::Json::array();
  auto feature_json = [&](const Feature& f) {
    const FeatureNorm* fn = norm->Find(f.key);
    return io::Json{{"key", f.key},
                    {"type", FeatureTypeName(f.type)},
                    {"shape", f.shape},
                    {"normalization", fn ? NormModeName(fn->mode) : "IDENTITY"},
                    {"stats_found", fn ? !fn->stats_missing : true}};
  };
  for (const auto& f : cfg->inputs) inputs.push_back(feature_json(f));
  for (const auto& f : cfg->outputs) outputs.push_back(feature_json(f));
  j["inputs"] = inputs;
  j["outputs"] = outputs;
  j["normalization_source"] = norm->source();
  j["quantized"] = *quant;
  io::Json params = io::Json::object();
  int64_t total = 0;
  // "model.encoder_" also matches the image projection, counted on its own line.
  for (const Block& b : blocks) {
    int64_t n = table.ExpectedElements(b.prefix);
    if (std::string(b.name) == "1d projections")
      n -= table.ExpectedElements("model.encoder_img_feat_input_proj.");
    params[b.name] = n;
    total += n;
  }
  params["total (inference)"] = total;
  j["parameters"] = params;
  int64_t file_elems = 0;
  for (const auto& e : (*file)->entries()) file_elems += e.shape.numel();
  j["file"] = {{"tensors", (*file)->entries().size()},
               {"elements", file_elems},
               {"bytes", (*file)->file_bytes()},
               {"dtype", DTypeName(table.StoredType("model.action_head.weight"))},
               {"unused_tensors", table.unused().size()}};
  j["unknown_config_fields"] = cfg->unknown_fields;
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  std::printf("checkpoint   %s\n", a.checkpoint.c_str());
  std::printf("policy       ACT  (%s, dim %d, %d encoder + %d decoder layers, %s)\n", cfg->vision_backbone.c_str(),
              cfg->dim_model, cfg->n_encoder_layers, cfg->n_decoder_layers, cfg->pre_norm ? "pre-norm" : "post-norm");
  std::printf("chunk        %d actions, %d executed per inference%s\n", cfg->chunk_size, cfg->n_action_steps,
              cfg->temporal_ensemble_coeff ? ", temporal ensembling" : "");
  std::printf("\nfeatures\n");
  for (const auto& part : {inputs, outputs})
    for (const auto& f : part) {
      std::string shape = f["shape"].dump();
      std::printf("  %-32s %-7s %-16s %s%s\n", f["key"].get<std::string>().c_str(), f["type"].get<std::string>().c_str(),
                  shape.c_str(), f["normalization"].get<std::string>().c_str(),
                  f["stats_found"].get<bool>() ? "" : "  (no stats: passed through)");
    }
  std::printf("\nnormalization  %s\n", norm->source().c_str());
  PrintQuantizedSummary(*quant);
  std::printf("\nparameters per block\n");
  for (auto it = params.begin(); it != params.end(); ++it)
    std::printf("  %-20s %12lld\n", it.key().c_str(), static_cast<long long>(it.value().get<int64_t>()));
  std::printf("\nfile         %zu tensors, %s, weights stored as %s; %zu not used at inference (VAE encoder, buffers)\n",
              (*file)->entries().size(), FormatBytes(static_cast<double>((*file)->file_bytes())).c_str(),
              std::string(DTypeName(table.StoredType("model.action_head.weight"))).c_str(), table.unused().size());
  if (!cfg->unknown_fields.empty()) {
    std::printf("warning: config fields embody does not know (ignored):");
    for (const auto& f : cfg->unknown_fields) std::printf(" %s", f.c_str());
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, std::function<int()>& run) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app.add_subcommand("info", "Show a checkpoint's features, shapes, parameters per block and normalization");
  sub->add_option("checkpoint", args->checkpoint, "pretrained_model folder (config.json + model.safetensors)")->required();
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args, &run] { run = [args] { return RunInfo(*args); }; });
}

}  // namespace embody::cli
