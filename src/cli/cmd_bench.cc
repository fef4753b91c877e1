// embody bench <checkpoint>: latency per block (median, p90) and peak memory.
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_type.h"
#include "cli/smolvla_commands.h"
#include "core/memory_stats.h"
#include "core/seeded.h"
#include "core/timer.h"
#include "models/act/act_model.h"

namespace embody::cli {

namespace {

struct BenchArgs {
  std::string checkpoint;
  int cameras = 0, height = 0, width = 0;
  int threads = 0;
  int runs = 10, warmup = 2;
  std::string backend = "onednn";
  bool json = false;
  bool direct_conv = false;
  std::string task = "put the tea bag in the mug", tokenizer, position_ids = "exact", plan;
};

io::Json SummaryJson(const LatencySummary& s) {
  return {{"median", s.median_ms}, {"p90", s.p90_ms}, {"mean", s.mean_ms}, {"min", s.min_ms}, {"max", s.max_ms}};
}

int RunBench(const BenchArgs& a) {
  using namespace models::act;
  auto type = PolicyType(a.checkpoint);
  if (!type.ok()) return Fail(type.status());
  if (*type == "smolvla") {
    if (a.cameras > 0) return Fail(InvalidArgument("--cameras: SmolVLA runs the checkpoint's cameras"));
    SmolVlaBenchArgs s;
    s.checkpoint = a.checkpoint;
    s.task = a.task;
    s.tokenizer = a.tokenizer;
    s.backend = a.backend;
    s.height = a.height;
    s.width = a.width;
    s.threads = a.threads;
    s.runs = a.runs;
    s.warmup = a.warmup;
    s.json = a.json;
    s.position_ids = a.position_ids;
    s.plan = a.plan;
    return RunBenchSmolVla(s);
  }
  auto backend = kernels::ParseBackend(a.backend);
  if (!backend.ok()) return Fail(backend.status());
  if (a.runs < 1) return Fail(InvalidArgument("--runs must be at least 1"));
  ActOptions opt;
  opt.backend = *backend;
  opt.threads = a.threads;
  opt.winograd = !a.direct_conv;
  opt.override_cameras = a.cameras;
  opt.override_height = a.height;
  opt.override_width = a.width;
  opt.plan = a.plan;
  Stopwatch load_sw;
  auto loaded = ActModel::Load(a.checkpoint, opt);
  if (!loaded.ok()) return Fail(loaded.status());
  const double load_ms = load_sw.ElapsedMs();
  ActModel& model = **loaded;
  const ActConfig& c = model.config();

  std::vector<std::vector<uint8_t>> frames(c.num_cameras());
  ActObservation obs;
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const int h = static_cast<int>(c.camera(i).shape[1]), w = static_cast<int>(c.camera(i).shape[2]);
    frames[i].resize(static_cast<size_t>(h * w * 3));
    seeded::FillImage(0, c.camera(i).key, h, w, frames[i].data());
    obs.images.push_back({frames[i].data(), h, w});
  }
  std::vector<float> state(static_cast<size_t>(c.state_dim()));
  seeded::FillState(0, static_cast<int>(c.state_dim()), state.data());
  obs.state = c.state_dim() ? state.data() : nullptr;
  std::vector<float> env(static_cast<size_t>(c.env_state_dim()), 0.0f);
  obs.env_state = c.env_state_dim() ? env.data() : nullptr;
  std::vector<float> actions(static_cast<size_t>(c.chunk_size * c.action_dim()));

  std::vector<double> total, encoder, decoder;
  std::vector<std::vector<double>> backbone(c.num_cameras());
  Progress progress("bench", a.warmup + a.runs);
  for (int i = 0; i < a.warmup + a.runs; ++i) {
    if (Status st = model.Predict(obs, actions.data(), nullptr); !st.ok()) return Fail(st);
    progress.Step(i + 1);
    if (i < a.warmup) continue;
    const auto& t = model.last_times();
    total.push_back(t.total_ms);
    encoder.push_back(t.encoder_ms);
    decoder.push_back(t.decoder_ms);
    for (size_t k = 0; k < backbone.size(); ++k) backbone[k].push_back(t.backbone_ms[k]);
  }
  progress.Finish();
  const int threads = ThreadPool(a.threads).threads();
  const LatencySummary tot = Summarize(total), enc = Summarize(encoder), dec = Summarize(decoder);
  io::Json bb = io::Json::array();
  for (size_t k = 0; k < backbone.size(); ++k) bb.push_back(SummaryJson(Summarize(backbone[k])));
  const int64_t h = c.num_cameras() ? c.camera(0).shape[1] : 0, w = c.num_cameras() ? c.camera(0).shape[2] : 0;
  io::Json j = {{"checkpoint", a.checkpoint},
                {"policy", "act"},
                {"backend", kernels::BackendName(*backend)},
                {"winograd", opt.winograd},
                {"plan", model.plan()},
                {"gemm", kernels::LinearImplementation(*backend)},
                {"threads", threads},
                {"cameras", c.num_cameras()},
                {"image", {h, w}},
                {"tokens", model.sequence_length()},
                {"runs", a.runs},
                {"load_ms", load_ms},
                {"total_ms", SummaryJson(tot)},
                {"backbone_ms", bb},
                {"encoder_ms", SummaryJson(enc)},
                {"decoder_ms", SummaryJson(dec)},
                {"arena_bytes", model.arena_bytes()},
                {"peak_rss_bytes", PeakRssBytes()}};
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  std::printf("ACT  %zu camera(s) %lldx%lld, %lld tokens, backend %s (%s%s), %d thread(s), %d runs (+%d warmup)\n",
              c.num_cameras(), static_cast<long long>(h), static_cast<long long>(w),
              static_cast<long long>(model.sequence_length()), kernels::BackendName(*backend),
              kernels::LinearImplementation(*backend), opt.winograd ? ", winograd conv" : "", threads, a.runs, a.warmup);
  std::printf("  precision plan: %s\n", model.plan().c_str());
  std::printf("  %-22s %10s %10s\n", "block", "median ms", "p90 ms");
  for (size_t k = 0; k < backbone.size(); ++k) {
    const LatencySummary s = Summarize(backbone[k]);
    std::printf("  backbone[%-12s] %10.2f %10.2f\n", c.camera(k).key.substr(c.camera(k).key.rfind('.') + 1).c_str(),
                s.median_ms, s.p90_ms);
  }
  std::printf("  %-22s %10.2f %10.2f\n", "encoder", enc.median_ms, enc.p90_ms);
  std::printf("  %-22s %10.2f %10.2f\n", "decoder", dec.median_ms, dec.p90_ms);
  std::printf("  %-22s %10.2f %10.2f\n", "total", tot.median_ms, tot.p90_ms);
  std::printf("  load %.0f ms, activation arena %s, peak RSS %s\n", load_ms,
              FormatBytes(static_cast<double>(model.arena_bytes())).c_str(),
              FormatBytes(static_cast<double>(PeakRssBytes())).c_str());
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "Latency per block (median/p90) and peak memory of a checkpoint");
  sub->add_option("checkpoint", a->checkpoint, "pretrained_model folder")->required();
  sub->add_option("--cameras", a->cameras, "Number of cameras (default: the config's)");
  sub->add_option("--height", a->height, "Image height (default: the config's)");
  sub->add_option("--width", a->width, "Image width (default: the config's)");
  sub->add_option("--threads", a->threads, "Threads (default: all cores)");
  sub->add_option("--runs", a->runs, "Timed runs");
  sub->add_option("--task", a->task, "SmolVLA: the instruction");
  sub->add_option("--siglip-position-ids", a->position_ids, "SmolVLA: exact or transformers-fp32");
  sub->add_option("--tokenizer", a->tokenizer, "SmolVLA: tokenizer.json (default: <checkpoint>/tokenizer/)");
  sub->add_option("--warmup", a->warmup, "Untimed runs first");
  sub->add_option("--backend", a->backend, "Kernel backend: onednn or reference");
  sub->add_flag("--direct-conv", a->direct_conv, "Direct 3x3 convolutions instead of Winograd");
  sub->add_option("--plan", a->plan, "Precision per block, e.g. backbone=int8,encoder=int8 (see embody quantize --help)");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a, &run] { run = [a] { return RunBench(*a); }; });
}

}  // namespace embody::cli
