#include "cli/smolvla_commands.h"

#include <map>

#include "cli/common.h"
#include "cli/quant_info.h"
#include "core/memory_stats.h"
#include "core/seeded.h"
#include "core/timer.h"
#include "io/image.h"
#include "models/smolvla/smolvla_model.h"
#include "models/smolvla/smolvla_weights.h"

namespace embody::cli {

using namespace models::smolvla;

namespace {

io::Json Summary(const std::vector<double>& v) {
  const LatencySummary s = Summarize(v);
  return {{"median", s.median_ms}, {"p90", s.p90_ms}, {"mean", s.mean_ms}, {"min", s.min_ms}, {"max", s.max_ms}};
}

// The seeded noise of the golden tools: float32 s values, key "noise.<step>".
std::vector<float> SeededNoise(int step, int64_t n) {
  std::vector<float> noise(static_cast<size_t>(n));
  seeded::FillWeight("noise." + std::to_string(step), Shape{n, 1}, 0, noise.data());
  return noise;
}

Result<SiglipPositionIds> PositionIds(const std::string& s) {
  if (s == "exact") return SiglipPositionIds::kExact;
  if (s == "transformers-fp32") return SiglipPositionIds::kTransformersFloat32;
  return InvalidArgument("--siglip-position-ids must be exact or transformers-fp32");
}

// The model options both `infer` and `bench` take from the command line.
Result<SmolVlaOptions> MakeOptions(const std::string& backend, int threads, const std::string& tokenizer,
                                   const std::string& position_ids, const std::string& plan) {
  SmolVlaOptions opt;
  opt.plan = plan;
  EMBODY_ASSIGN_OR_RETURN(opt.backend, kernels::ParseBackend(backend));
  EMBODY_ASSIGN_OR_RETURN(opt.position_ids, PositionIds(position_ids));
  opt.threads = threads;
  opt.tokenizer_path = tokenizer;
  return opt;
}

}  // namespace

int RunInfoSmolVla(const std::string& dir, bool json) {
  auto cfg = LoadSmolVlaConfig(dir);
  if (!cfg.ok()) return Fail(cfg.status());
  auto file = io::SafetensorsFile::Open(dir + "/model.safetensors");
  if (!file.ok()) return Fail(file.status());
  models::WeightTable table = MakeSmolVlaWeightTable(*cfg);
  auto quant = QuantizedSummary(dir, "smolvla", table);
  if (!quant.ok()) return Fail(quant.status());
  if (Status st = table.Bind(*file); !st.ok()) return Fail(st.WithContext("backbone config " + cfg->vlm.source));
  std::vector<models::Feature> norm_inputs;
  for (const auto& f : cfg->inputs)
    if (f.type != models::FeatureType::kVisual) norm_inputs.push_back(f);
  auto norm = models::Normalizer::Load(dir, norm_inputs, cfg->outputs, cfg->normalization, **file);
  if (!norm.ok()) return Fail(norm.status());
  const SmolVlaConfig& c = *cfg;
  const int64_t vision = table.ExpectedElements(kVlm + "vision_model.");
  const int64_t connector = table.ExpectedElements(kVlm + "connector.");
  const int64_t embed = table.ExpectedElements(kVlm + "text_model.embed_tokens.");
  const int64_t llm = table.ExpectedElements(kVlm + "text_model.layers.");
  // "model.action_" covers action_in_proj, action_out_proj and the action-time MLP.
  const int64_t expert = table.ExpectedElements(kExpert) + table.ExpectedElements("model.action_");
  const int64_t state = table.ExpectedElements("model.state_proj.");
  io::Json inputs = io::Json::array();
  for (const auto& f : c.inputs) {
    const auto* fn = norm->Find(f.key);
    inputs.push_back({{"key", f.key}, {"type", models::FeatureTypeName(f.type)}, {"shape", f.shape},
                      {"normalization", fn ? models::NormModeName(fn->mode) : "IDENTITY"}});
  }
  io::Json j = {{"checkpoint", dir},
                {"policy", "smolvla"},
                {"backbone", c.vlm_model_name},
                {"backbone_config", c.vlm.source},
                {"chunk_size", c.chunk_size},
                {"n_action_steps", c.n_action_steps},
                {"num_steps", c.num_steps},
                {"layers", {{"vision", c.vlm.vision.layers}, {"llm", c.num_layers}, {"expert", c.num_layers}}},
                {"widths", {{"vision", c.vlm.vision.hidden}, {"llm", c.vlm.text.hidden}, {"expert", c.expert_hidden}}},
                {"image_tokens_per_camera", c.tokens_per_image()},
                {"inputs", inputs},
                {"action_dim", c.action_dim()},
                {"normalization_source", norm->source()},
                {"parameters", {{"vision", vision}, {"connector", connector}, {"embeddings", embed}, {"llm", llm},
                                {"expert", expert}, {"state_proj", state},
                                {"total (inference)", vision + connector + embed + llm + expert + state}}},
                {"file", {{"tensors", (*file)->entries().size()}, {"bytes", (*file)->file_bytes()},
                          {"unused_tensors", table.unused().size()}}},
                {"unknown_config_fields", c.unknown_fields},
                {"quantized", *quant}};
  if (json) {
    PrintJson(j);
    return 0;
  }
  std::printf("checkpoint   %s\n", dir.c_str());
  std::printf("policy       SmolVLA  (backbone %s, config from %s)\n", c.vlm_model_name.c_str(), c.vlm.source.c_str());
  std::printf("blocks       vision %d x %d wide -> %d tokens/camera | llm %d x %d wide | expert %d x %d wide, %d steps\n",
              c.vlm.vision.layers, c.vlm.vision.hidden, c.tokens_per_image(), c.num_layers, c.vlm.text.hidden,
              c.num_layers, c.expert_hidden, c.num_steps);
  std::printf("chunk        %d actions, %d executed per inference\n\nfeatures\n", c.chunk_size, c.n_action_steps);
  for (const auto& f : inputs)
    std::printf("  %-32s %-7s %-16s %s\n", f["key"].get<std::string>().c_str(), f["type"].get<std::string>().c_str(),
                f["shape"].dump().c_str(), f["normalization"].get<std::string>().c_str());
  std::printf("  %-32s ACTION  [%lld]\n", "action", static_cast<long long>(c.action_dim()));
  std::printf("\nnormalization  %s\n", norm->source().c_str());
  PrintQuantizedSummary(*quant);
  std::printf("\nparameters per block\n");
  for (auto it = j["parameters"].begin(); it != j["parameters"].end(); ++it)
    std::printf("  %-20s %12lld\n", it.key().c_str(), static_cast<long long>(it.value().get<int64_t>()));
  std::printf("\nfile         %zu tensors, %s; %zu not used at inference\n", (*file)->entries().size(),
              FormatBytes(static_cast<double>((*file)->file_bytes())).c_str(), table.unused().size());
  if (!c.unknown_fields.empty()) {
    std::printf("warning: config fields embody does not know (ignored):");
    for (const auto& f : c.unknown_fields) std::printf(" %s", f.c_str());
    std::printf("\n");
  }
  return 0;
}

int RunInferSmolVla(const SmolVlaInferArgs& a) {
  auto options = MakeOptions(a.backend, a.threads, a.tokenizer, a.position_ids, a.plan);
  if (!options.ok()) return Fail(options.status());
  SmolVlaOptions opt = *options;
  opt.truncate_long_tasks = a.truncate_task;
  auto model = SmolVlaModel::Load(a.checkpoint, opt);
  if (!model.ok()) return Fail(model.status());
  const SmolVlaConfig& c = (*model)->config();
  auto loaded_images = LoadCameraImages(a.images);
  if (!loaded_images.ok()) return Fail(loaded_images.status());
  std::map<std::string, io::Image> images = std::move(*loaded_images);
  std::vector<CameraImage> frames;
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const auto& cam = c.camera(i);
    if (a.seeded_inputs)
      images[cam.key] = SeededImage(a.step, cam.key, static_cast<int>(cam.shape[1]), static_cast<int>(cam.shape[2]));
    auto it = images.find(cam.key);
    if (it == images.end()) return Fail(InvalidArgument("no image for camera " + cam.key));
    frames.push_back({it->second.pixels.data(), it->second.height, it->second.width});
  }
  if (images.size() > c.num_cameras())
    return Fail(InvalidArgument("more images than the checkpoint's " + std::to_string(c.num_cameras()) + " camera(s)"));
  std::vector<float> state(static_cast<size_t>(c.state_dim()));
  if (a.seeded_inputs) {
    seeded::FillState(a.step, static_cast<int>(c.state_dim()), state.data());
  } else {
    auto parsed = ParseFloats(a.state, "--state");
    if (!parsed.ok()) return Fail(parsed.status());
    if (parsed->size() != state.size())
      return Fail(InvalidArgument("--state needs " + std::to_string(state.size()) + " values"));
    state = *parsed;
  }
  const std::string task = a.task.empty() && a.seeded_inputs ? "put the tea bag in the mug" : a.task;
  if (task.empty()) return Fail(InvalidArgument("--task is required (the instruction, e.g. \"put the tea bag in the mug\")"));
  const int64_t n = int64_t{c.chunk_size} * c.max_action_dim;
  const std::vector<float> noise = SeededNoise(static_cast<int>(a.noise_seed), n);
  std::vector<float> actions(static_cast<size_t>(c.chunk_size * c.action_dim())), normalized(static_cast<size_t>(n));
  if (Status st = (*model)->Predict(frames, task, state.data(), noise.data(), actions.data(), normalized.data()); !st.ok())
    return Fail(st);
  const auto& t = (*model)->last_times();
  if (a.json) {
    io::Json chunk = io::Json::array();
    for (int64_t i = 0; i < c.chunk_size; ++i) {
      if (a.normalized)
        chunk.push_back(std::vector<float>(normalized.begin() + i * c.max_action_dim, normalized.begin() + (i + 1) * c.max_action_dim));
      else
        chunk.push_back(std::vector<float>(actions.begin() + i * c.action_dim(), actions.begin() + (i + 1) * c.action_dim()));
    }
    PrintJson({{"policy", "smolvla"}, {"task", task}, {"tokens", (*model)->last_token_ids()},
               {"units", a.normalized ? "normalized" : "robot"}, {"actions", chunk},
               {"latency_ms", {{"total", t.total_ms}, {"vision", t.vision_ms}, {"llm", t.llm_ms}, {"expert", t.expert_ms}}}});
    return 0;
  }
  std::printf("task \"%s\" (%zu tokens); action chunk %d x %lld (robot units), %.0f ms\n", task.c_str(),
              (*model)->last_token_ids().size(), c.chunk_size, static_cast<long long>(c.action_dim()), t.total_ms);
  for (int64_t i = 0; i < c.chunk_size; ++i) {
    std::printf("%4lld:", static_cast<long long>(i));
    for (int64_t j = 0; j < c.action_dim(); ++j) std::printf(" %10.4f", static_cast<double>(actions[static_cast<size_t>(i * c.action_dim() + j)]));
    std::printf("\n");
  }
  return 0;
}

int RunBenchSmolVla(const SmolVlaBenchArgs& a) {
  auto options = MakeOptions(a.backend, a.threads, a.tokenizer, a.position_ids, a.plan);
  if (!options.ok()) return Fail(options.status());
  const SmolVlaOptions& opt = *options;
  Stopwatch load_sw;
  auto model = SmolVlaModel::Load(a.checkpoint, opt);
  if (!model.ok()) return Fail(model.status());
  const double load_ms = load_sw.ElapsedMs();
  const size_t rss_after_load = CurrentRssBytes(), peak_after_load = PeakRssBytes();
  const SmolVlaConfig& c = (*model)->config();
  std::vector<std::vector<uint8_t>> pixels(c.num_cameras());
  std::vector<CameraImage> frames;
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const int h = a.height > 0 ? a.height : static_cast<int>(c.camera(i).shape[1]);
    const int w = a.width > 0 ? a.width : static_cast<int>(c.camera(i).shape[2]);
    pixels[i].resize(static_cast<size_t>(h * w * 3));
    seeded::FillImage(0, c.camera(i).key, h, w, pixels[i].data());
    frames.push_back({pixels[i].data(), h, w});
  }
  std::vector<float> state(static_cast<size_t>(c.state_dim()));
  seeded::FillState(0, static_cast<int>(c.state_dim()), state.data());
  const std::vector<float> noise = SeededNoise(0, int64_t{c.chunk_size} * c.max_action_dim);
  std::vector<float> actions(static_cast<size_t>(c.chunk_size * c.action_dim()));
  std::vector<double> total, llm, expert, expert_rerun;
  std::vector<std::vector<double>> vision(c.num_cameras());
  Progress progress("bench", a.warmup + a.runs);
  for (int i = 0; i < a.warmup + a.runs; ++i) {
    if (Status st = (*model)->Predict(frames, a.task, state.data(), noise.data(), actions.data(), nullptr); !st.ok())
      return Fail(st);
    const SmolVlaTimes t = (*model)->last_times();
    // The expert alone on the cached prefix, as an asynchronous scheduler would re-run it.
    if (Status st = (*model)->Denoise(noise.data(), actions.data(), nullptr); !st.ok()) return Fail(st);
    progress.Step(i + 1);
    if (i < a.warmup) continue;
    total.push_back(t.total_ms);
    llm.push_back(t.llm_ms);
    expert.push_back(t.expert_ms);
    expert_rerun.push_back((*model)->last_times().expert_ms);
    for (size_t k = 0; k < vision.size(); ++k) vision[k].push_back(t.vision_ms[k]);
  }
  progress.Finish();
  io::Json vis = io::Json::array();
  for (const auto& v : vision) vis.push_back(Summary(v));
  const int threads = ThreadPool(a.threads).threads();
  io::Json j = {{"checkpoint", a.checkpoint}, {"policy", "smolvla"}, {"backend", kernels::BackendName(opt.backend)},
                {"gemm", kernels::LinearImplementation(opt.backend)}, {"plan", (*model)->plan()},
                {"threads", threads}, {"cameras", c.num_cameras()}, {"steps", c.num_steps}, {"runs", a.runs},
                {"tokens", (*model)->last_token_ids().size()}, {"prefix_length", (*model)->prefix_cache().length},
                {"load_ms", load_ms}, {"total_ms", Summary(total)},
                {"blocks", {{"vision_ms", vis}, {"llm_ms", Summary(llm)}, {"expert_ms", Summary(expert)},
                            {"expert_rerun_ms", Summary(expert_rerun)}}},
                {"rss_after_load_bytes", rss_after_load}, {"peak_rss_during_load_bytes", peak_after_load},
                {"peak_rss_bytes", PeakRssBytes()}};
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  std::printf("SmolVLA  %zu camera(s), prefix %lld tokens, %d steps, backend %s (%s), %d thread(s), %d runs (+%d warmup)\n",
              c.num_cameras(), static_cast<long long>((*model)->prefix_cache().length), c.num_steps,
              kernels::BackendName(opt.backend), kernels::LinearImplementation(opt.backend), threads, a.runs, a.warmup);
  std::printf("  precision plan: %s\n", (*model)->plan().c_str());
  std::printf("  %-24s %10s %10s\n", "block", "median ms", "p90 ms");
  for (size_t k = 0; k < vision.size(); ++k) {
    const LatencySummary s = Summarize(vision[k]);
    std::printf("  vision[%-16s] %10.1f %10.1f\n", c.camera(k).key.substr(c.camera(k).key.rfind('.') + 1).c_str(), s.median_ms, s.p90_ms);
  }
  for (const auto& [name, v] : {std::pair<const char*, const std::vector<double>*>{"llm (prefix + KV)", &llm},
                                {"expert (all steps)", &expert}, {"expert re-run on cache", &expert_rerun}, {"total", &total}}) {
    const LatencySummary s = Summarize(*v);
    std::printf("  %-24s %10.1f %10.1f\n", name, s.median_ms, s.p90_ms);
  }
  std::printf("  load %.0f ms, RSS after load %s, peak RSS %s\n", load_ms, FormatBytes(static_cast<double>(rss_after_load)).c_str(),
              FormatBytes(static_cast<double>(PeakRssBytes())).c_str());
  return 0;
}

}  // namespace embody::cli
