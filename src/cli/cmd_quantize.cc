// embody quantize <checkpoint> --plan ... -o <out>: per-block precision as a self-contained model,
// with the sensitivity report (error per block alone and for the plan, against f32).
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "kernels/quant/quant_linear.h"
#include "quantize/quantize.h"

namespace embody::cli {

namespace {

struct QuantizeArgs {
  std::string checkpoint, output, plan, calib = "seeded:4", backend = "onednn", tokenizer, report_path;
  int threads = 0;
  bool static_activations = false, no_report = false, json = false;
};

Result<int> ParseSeededCalib(const std::string& spec) {
  if (spec.rfind("seeded", 0) == 0) {
    if (spec == "seeded") return 4;
    if (spec.size() > 7 && spec[6] == ':') {
      try {
        const int n = std::stoi(spec.substr(7));
        if (n >= 1 && n <= 1000) return n;
      } catch (...) {
      }
    }
    return InvalidArgument("--calib '" + spec + "': expected seeded or seeded:N with 1 <= N <= 1000");
  }
  return InvalidArgument("--calib '" + spec + "': expected seeded[:N] or dataset:<dataset root>[:N]");
}

// seeded[:N] -> N seeded inputs; dataset:ROOT[:N] -> N frames of a LeRobot dataset (default 8).
Status ParseCalib(const std::string& spec, quantize::QuantizeRequest& req) {
  if (spec.rfind("dataset:", 0) == 0) {
    std::string root = spec.substr(8);
    int n = 8;
    if (const size_t colon = root.rfind(':'); colon != std::string::npos) {
      const std::string count = root.substr(colon + 1);
      if (!count.empty() && count.find_first_not_of("0123456789") == std::string::npos) {
        n = count.size() <= 4 ? std::stoi(count) : 0;
        root.resize(colon);
        if (n < 1 || n > 1000)
          return InvalidArgument("--calib '" + spec + "': the frame count must be between 1 and 1000");
      }
    }
    if (root.empty()) return InvalidArgument("--calib '" + spec + "': expected dataset:<dataset root>[:N]");
    req.calib_dataset = root;
    req.dataset_samples = n;
    return Status::Ok();
  }
  auto n = ParseSeededCalib(spec);
  if (!n.ok()) return n.status();
  req.seeded_samples = *n;
  return Status::Ok();
}

io::Json ResultJson(const quantize::QuantizeResult& r, const QuantizeArgs& a) {
  io::Json sens = io::Json::array();
  for (const auto& s : r.sensitivity) {
    io::Json blocks = io::Json::object();
    for (const auto& [b, e] : s.block_rel_err) blocks[b] = e;
    sens.push_back({{"config", s.config},
                    {"block_rel_err", blocks},
                    {"action_max_err_std", s.action_max_std},
                    {"action_mean_err_std", s.action_mean_std},
                    {"expert_step_rel_err", s.expert_step_rel_err},
                    {"latency_ms", s.latency_ms}});
  }
  io::Json census = io::Json::object();
  for (const auto& [b, f] : r.census) census[b] = f;
  return {{"checkpoint", a.checkpoint},
          {"output", a.output},
          {"policy", r.policy_type},
          {"plan", r.plan},
          {"static_activations", a.static_activations},
          {"kernels", {{"int8", kernels::QuantKernelName(kernels::WeightFormat::kInt8)},
                       {"int4", kernels::QuantKernelName(kernels::WeightFormat::kInt4)},
                       {"f16", kernels::QuantKernelName(kernels::WeightFormat::kF16)},
                       {"bf16", kernels::QuantKernelName(kernels::WeightFormat::kBF16)}}},
          {"ops", census},
          {"source_model_bytes", r.source_model_bytes},
          {"model_bytes", r.files.model_bytes},
          {"quantized_bytes", r.files.quantized_bytes},
          {"ops_quantized", r.files.ops_quantized},
          {"f32_latency_ms", r.f32_latency_ms},
          {"sensitivity", sens}};
}

int RunQuantize(const QuantizeArgs& a) {
  quantize::QuantizeRequest req;
  req.checkpoint = a.checkpoint;
  req.output = a.output;
  req.plan = a.plan;
  if (Status st = ParseCalib(a.calib, req); !st.ok()) return Fail(st);
  req.static_activations = a.static_activations;
  req.report = !a.no_report;
  auto backend = kernels::ParseBackend(a.backend);
  if (!backend.ok()) return Fail(backend.status());
  req.backend = *backend;
  req.threads = a.threads;
  req.tokenizer = a.tokenizer;
  std::unique_ptr<Progress> bar;
  std::string stage;
  auto progress = [&](const std::string& s, int done, int total) {
    if (s != stage) {
      if (bar) bar->Finish();
      bar = std::make_unique<Progress>(s, total);
      stage = s;
    }
    bar->Step(done);
  };
  auto result = quantize::Quantize(req, progress);
  if (bar) bar->Finish();
  if (!result.ok()) return Fail(result.status());
  const io::Json j = ResultJson(*result, a);
  if (!a.report_path.empty()) {
    if (Status st = io::WriteJsonFile(a.report_path, j); !st.ok()) return Fail(st);
  }
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  const auto& r = *result;
  std::printf("%s quantized with plan %s -> %s\n", r.policy_type.c_str(), r.plan.c_str(), a.output.c_str());
  std::printf("  weights: %s source -> %s (%s packed + %s kept), %d ops quantized\n",
              FormatBytes(static_cast<double>(r.source_model_bytes)).c_str(),
              FormatBytes(static_cast<double>(r.files.model_bytes + r.files.quantized_bytes)).c_str(),
              FormatBytes(static_cast<double>(r.files.quantized_bytes)).c_str(),
              FormatBytes(static_cast<double>(r.files.model_bytes)).c_str(), r.files.ops_quantized);
  std::printf("  kernels: int8 %s; int4 %s\n", kernels::QuantKernelName(kernels::WeightFormat::kInt8).c_str(),
              kernels::QuantKernelName(kernels::WeightFormat::kInt4).c_str());
  if (r.sensitivity.empty()) return 0;
  std::printf("\nSensitivity against f32 on %d seeded input(s) (action error in action-std units):\n", req.seeded_samples);
  std::printf("  %-34s %-44s %12s %12s %10s\n", "config", "block output rel. error", "action max", "action mean", "ms");
  for (const auto& s : r.sensitivity) {
    std::string blocks;
    for (const auto& [b, e] : s.block_rel_err) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%s %.2e", blocks.empty() ? "" : ", ", b.c_str(), e);
      blocks += buf;
    }
    std::printf("  %-34s %-44s %12.2e %12.2e %10.1f\n", s.config.c_str(), blocks.c_str(), s.action_max_std,
                s.action_mean_std, s.latency_ms);
  }
  std::printf("  %-34s %-44s %12s %12s %10.1f\n", "f32", "", "", "", r.f32_latency_ms);
  const auto& last = r.sensitivity.back();
  if (!last.expert_step_rel_err.empty()) {
    std::printf("\nExpert: relative error of the chunk after each denoising step (plan):\n ");
    for (double e : last.expert_step_rel_err) std::printf(" %.2e", e);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void RegisterQuantize(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* sub = app.add_subcommand(
      "quantize", "Per-block precision (f32/f16/bf16/int8/int4) as a self-contained model, with a sensitivity report");
  sub->add_option("checkpoint", a->checkpoint, "f32 pretrained_model folder (ACT or SmolVLA)")->required();
  sub->add_option("--plan", a->plan,
                  "Format per block: ACT backbone,encoder,decoder; SmolVLA vision,connector,llm,expert "
                  "(e.g. vision=int8,llm=int8). A key with a dot overrides one layer by op-id prefix")
      ->required();
  sub->add_option("-o,--output", a->output, "Output folder (written atomically)")->required();
  sub->add_option("--calib", a->calib, "Calibration inputs: seeded:N (default seeded:4), or dataset:<LeRobot dataset root>[:N] (N frames, default 8; the report then uses N other frames)");
  sub->add_flag("--static-activations", a->static_activations,
                "Quantize activations with calibrated per-op scales instead of per row at run time");
  sub->add_flag("--no-report", a->no_report, "Skip the sensitivity analysis");
  sub->add_option("--report", a->report_path, "Also write the report as JSON to this file");
  sub->add_option("--threads", a->threads, "Threads (default: all cores)");
  sub->add_option("--backend", a->backend, "Kernel backend: onednn or reference");
  sub->add_option("--tokenizer", a->tokenizer, "SmolVLA: tokenizer.json (default: <checkpoint>/tokenizer/)");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a, &run] { run = [a] { return RunQuantize(*a); }; });
}

}  // namespace embody::cli
