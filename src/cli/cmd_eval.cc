// embody eval: success rate of a checkpoint in the simulation (issue 8): test set (positions in
// every training cluster), validation set (the held-out cluster), global; sync or async
// execution with a latency profile. Writes a JSON result `embody report` reads.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/common.h"
#include "train/eval/policy_eval.h"

namespace embody::cli {

namespace {

struct EvalArgs {
  std::string policy, mode = "sync", output;
  train::EvalOptions o;
  bool json = false;
};

int RunEval(const EvalArgs& a) {
  if (a.mode != "sync" && a.mode != "async") return Fail(InvalidArgument("--mode: sync or async, got '" + a.mode + "'"));
  train::EvalOptions o = a.o;
  o.async = a.mode == "async";
  const int total = (10 * o.per_cluster) + o.val_episodes;
  Progress bar("eval " + a.mode, total);
  auto s = train::EvaluateCheckpoint(a.policy, o, [&](int done, int, const train::EvalEpisodeResult& e) {
    if (a.json) return bar.Step(done);
    char what[64];
    if (e.success)
      std::snprintf(what, sizeof what, "success at %.2f s", e.time_to_success);
    else
      std::snprintf(what, sizeof what, "FAIL (%s, bag rose %.0f mm)",
                    train::FailureName(train::FailureOf(e)),
                    e.max_bag_lift * 1000);
    std::fprintf(stderr, "%-4s cluster %2d seed %8llu  %s\n", e.set.c_str(), e.cluster,
                 static_cast<unsigned long long>(e.seed), what);
  });
  if (a.json) bar.Finish();
  if (!s.ok()) return Fail(s.status());
  const io::Json j = train::SummaryToJson(*s);
  if (!a.output.empty())
    if (Status st = io::WriteJsonFile(a.output, j); !st.ok()) return Fail(st);
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  std::printf("%s (%s, %s, %s latency %.0f ms median)\n", s->checkpoint.c_str(), s->policy.c_str(), s->format.c_str(),
              s->mode.c_str(), s->latency_ms);
  std::printf("test %d/%d = %.2f   val %d/%d = %.2f   global %d/%d = %.2f\n", s->test_success, s->test_total, s->test(),
              s->val_success, s->val_total, s->val(), s->test_success + s->val_success, s->test_total + s->val_total,
              s->global());
  std::printf("failures: %d missed grasps, %d bags dropped or misplaced\n", s->missed_grasps(),
              s->dropped_or_misplaced());
  if (!a.output.empty()) std::printf("wrote %s\n", a.output.c_str());
  return 0;
}

}  // namespace

void RegisterEval(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<EvalArgs>();
  auto* sub = app.add_subcommand("eval", "Success rate of a checkpoint on the simulated task (test, val, global)");
  sub->add_option("--policy", a->policy, "Checkpoint folder (pretrained_model/)")->required();
  sub->add_option("--episodes-per-cluster", a->o.per_cluster, "Test positions per training cluster (2 -> 20)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--val-episodes", a->o.val_episodes, "Positions in the held-out cluster (10)")->check(CLI::NonNegativeNumber);
  sub->add_option("--mode", a->mode, "sync (LeRobot's select_action loop) or async");
  sub->add_option("--latency", a->o.latency, "Charged latency: measured, ms (250), x<factor>, imx95-act");
  sub->add_option("--threshold", a->o.threshold, "async: chunk_size_threshold")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--temporal-ensemble", a->o.temporal_ensemble,
                  "ACT, sync: temporal_ensemble_coeff (0.01 in the ACT paper; an inference every tick). "
                  "Default: the checkpoint's; 0: off")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--seed-base", a->o.seed_base, "First evaluation seed (1000000)");
  sub->add_option("--max-seconds", a->o.max_seconds, "Episode time limit (simulated s)");
  sub->add_option("--threads", a->o.threads, "Inference threads (0: all cores)");
  sub->add_option("--plan", a->o.plan, "Precision plan, e.g. backbone=int8,encoder=int8 (Format column)");
  sub->add_option("--task", a->o.task, "SmolVLA: the instruction");
  sub->add_option("--tokenizer", a->o.tokenizer, "SmolVLA: tokenizer.json");
  sub->add_option("-o,--output", a->output, "Write the result JSON here (for embody report)");
  sub->add_flag("--json", a->json, "Machine-readable output");
  sub->callback([&run, a] { run = [a] { return RunEval(*a); }; });
}

}  // namespace embody::cli
