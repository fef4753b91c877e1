// What the latency-aware block scheduler gains (issue 6), on seeded checkpoints written to a
// temporary folder: T_inference per chunk (median and p90 over --runs, configurations
// interleaved round by round so that load from other processes hits all of them alike).
//
//   ACT, N cameras: blocks one after another with T threads (the plain policy), the scheduler on
//   one T-thread executor, and the scheduler on T one-thread executors pinned to CPUs 0..T-1
//   (cameras in parallel, each on its own backbone replica).
//   SmolVLA (small widths, N cameras): every block every chunk, then the vision block every
//   2nd / 4th chunk (LLM prefill with the current state and the expert every chunk).
//
// Usage: embody_scheduler_bench [--runs 15] [--threads 2] [--cameras 3]
//                               [--tokenizer-dir ../shared/data/smolvlm2-tokenizer]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "core/timer.h"
#include "models/act/act_seeded_checkpoint.h"
#include "models/smolvla/smolvla_seeded_checkpoint.h"
#include "runtime/async/act_chunk_policy.h"
#include "runtime/async/smolvla_chunk_policy.h"
#include "runtime/sched/scheduled_act_policy.h"
#include "runtime/sched/scheduled_smolvla_policy.h"

namespace {

using namespace embody;
namespace sched = embody::runtime::sched;

struct Case {
  std::string name;
  std::unique_ptr<runtime::Policy> policy;
  std::vector<double> ms;
};

void Die(const Status& s) {
  std::fprintf(stderr, "scheduler_bench: %s\n", s.ToString().c_str());
  std::exit(1);
}

std::vector<sched::Executor*> Ptrs(const std::vector<std::unique_ptr<sched::CpuExecutor>>& v) {
  std::vector<sched::Executor*> out;
  for (const auto& e : v) out.push_back(e.get());
  return out;
}

void RunCases(const char* title, std::vector<Case>& cases, const runtime::PolicyObservation& obs, int runs) {
  std::vector<float> chunk(static_cast<size_t>(cases[0].policy->chunk_size() * cases[0].policy->action_dim()));
  for (Case& c : cases)  // warm-up: first-touch pages, the scheduler's first measurements
    for (int i = 0; i < 2; ++i)
      if (Status s = c.policy->PredictChunk(obs, chunk.data()); !s.ok()) Die(s);
  for (int r = 0; r < runs; ++r)
    for (Case& c : cases) {
      Stopwatch sw;
      if (Status s = c.policy->PredictChunk(obs, chunk.data()); !s.ok()) Die(s);
      c.ms.push_back(sw.ElapsedMs());
    }
  // mean: the average T_inference per chunk (a multi-rate policy alternates cheap and full chunks,
  // whose median says little); p90: the full path
  std::printf("\n%s\n| configuration | mean ms | median ms | p90 ms | mean vs first |\n|---|---|---|---|---|\n", title);
  const double base = Summarize(cases[0].ms).mean_ms;
  for (Case& c : cases) {
    const LatencySummary s = Summarize(c.ms);
    std::printf("| %s | %.1f | %.1f | %.1f | %.2fx |\n", c.name.c_str(), s.mean_ms, s.median_ms, s.p90_ms,
                base / s.mean_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 15, threads = 2, cameras = 3;
  std::string tokenizer_dir = "../shared/data/smolvlm2-tokenizer";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--runs") runs = std::atoi(v.c_str());
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--cameras") cameras = std::atoi(v.c_str());
    else if (k == "--tokenizer-dir") tokenizer_dir = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (runs < 1 || threads < 1 || cameras < 1) {
    std::fprintf(stderr, "--runs, --threads, --cameras must be >= 1\n");
    return 2;
  }
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("embody_scheduler_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  std::printf("scheduler_bench: %d runs, %d threads, %d cameras, %d cores available\n", runs, threads, cameras,
              AvailableCores());

  std::vector<std::string> names;
  for (int c = 0; c < cameras; ++c) names.push_back("cam" + std::to_string(c));
  std::vector<uint8_t> pixels;
  runtime::PolicyObservation obs;
  std::vector<float> state(6, 0.1f);
  obs.state = state.data();
  obs.task = "put the tea bag in the mug";

  {  // ACT
    models::act::SeededActSpec spec;
    spec.cameras = names;
    spec.height = 240;
    spec.width = 320;
    spec.chunk_size = spec.n_action_steps = 50;
    const std::string dir = (tmp / "act").string();
    if (Status s = models::act::WriteSeededActCheckpoint(dir, spec); !s.ok()) Die(s);
    pixels.assign(static_cast<size_t>(spec.height) * spec.width * 3, 100);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 13 % 251);
    obs.images.assign(static_cast<size_t>(cameras), {pixels.data(), spec.height, spec.width});
    models::act::ActOptions opt;
    opt.threads = threads;
    auto load = [&] { return models::act::ActModel::Load(dir, opt); };

    std::vector<std::unique_ptr<sched::CpuExecutor>> one, many, loose;
    one.push_back(std::make_unique<sched::CpuExecutor>(sched::CpuExecutorOptions{"cpu0-1", threads, {}}));
    for (int t = 0; t < threads; ++t) {
      many.push_back(std::make_unique<sched::CpuExecutor>(sched::CpuExecutorOptions{"cpu" + std::to_string(t), 1, {t}}));
      loose.push_back(std::make_unique<sched::CpuExecutor>(sched::CpuExecutorOptions{"any" + std::to_string(t), 1, {}}));
    }
    std::vector<Case> cases;
    auto plain = load();
    if (!plain.ok()) Die(plain.status());
    cases.push_back({"plain ActChunkPolicy, " + std::to_string(threads) + " threads, blocks in sequence",
                     std::make_unique<runtime::ActChunkPolicy>(std::move(*plain)), {}});
    auto s1 = sched::ScheduledActPolicy::Create(load, Ptrs(one));
    if (!s1.ok()) Die(s1.status());
    cases.push_back({"scheduler, 1 executor x " + std::to_string(threads) + " threads", std::move(*s1), {}});
    auto s2 = sched::ScheduledActPolicy::Create(load, Ptrs(many));
    if (!s2.ok()) Die(s2.status());
    const std::string pin_note = many[0]->affinity_error().empty() ? "pinned" : "unpinned: " + many[0]->affinity_error();
    sched::ScheduledActPolicy* parallel = s2->get();
    cases.push_back({"scheduler, " + std::to_string(threads) + " executors x 1 thread (" + pin_note + "), cameras in parallel",
                     std::move(*s2), {}});
    auto s3 = sched::ScheduledActPolicy::Create(load, Ptrs(loose));
    if (!s3.ok()) Die(s3.status());
    cases.push_back({"scheduler, " + std::to_string(threads) + " executors x 1 thread (unpinned), cameras in parallel",
                     std::move(*s3), {}});
    RunCases(("ACT, " + std::to_string(cameras) + " cameras 240x320, dim 512, chunk 50").c_str(), cases, obs, runs);
    std::printf("last parallel run: %s\n",
                sched::DescribeRun(parallel->last_report(), parallel->scheduler().executors()).c_str());
    cases.clear();
  }

  {  // SmolVLA, small widths
    models::smolvla::SeededSmolVlaSpec spec;
    spec.cameras = names;
    spec.height = spec.width = 256;
    spec.num_vlm_layers = 4;
    spec.vlm.vision.hidden = 384;
    spec.vlm.vision.layers = 6;
    spec.vlm.vision.heads = 6;
    spec.vlm.vision.intermediate = 1536;
    spec.vlm.vision.image_size = 256;
    spec.vlm.text.hidden = 384;
    spec.vlm.text.heads = 6;
    spec.vlm.text.kv_heads = 2;
    spec.vlm.text.intermediate = 1024;
    spec.vlm.text.layers = 4;
    spec.tokenizer_dir = tokenizer_dir;
    const std::string dir = (tmp / "smolvla").string();
    if (Status s = models::smolvla::WriteSeededSmolVlaCheckpoint(dir, spec); !s.ok()) Die(s);
    pixels.assign(256 * 256 * 3, 0);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 % 251);
    obs.images.assign(static_cast<size_t>(cameras), {pixels.data(), 256, 256});
    models::smolvla::SmolVlaOptions opt;
    opt.threads = threads;
    auto load = [&] { return models::smolvla::SmolVlaModel::Load(dir, opt); };
    std::vector<std::unique_ptr<sched::CpuExecutor>> execs;
    std::vector<Case> cases;
    auto plain = load();
    if (!plain.ok()) Die(plain.status());
    cases.push_back({"plain SmolVlaChunkPolicy, every block every chunk",
                     std::make_unique<runtime::SmolVlaChunkPolicy>(std::move(*plain), "put the tea bag in the mug"), {}});
    for (int every : {1, 2, 4}) {
      execs.push_back(std::make_unique<sched::CpuExecutor>(sched::CpuExecutorOptions{"cpu", threads, {}}));
      sched::SmolVlaScheduleOptions so;
      so.vision_every = every;
      auto p = sched::ScheduledSmolVlaPolicy::Create(load, "put the tea bag in the mug", {execs.back().get()}, so);
      if (!p.ok()) Die(p.status());
      cases.push_back({"scheduler, vision every " + std::to_string(every) + " chunk(s)", std::move(*p), {}});
    }
    RunCases(("SmolVLA small (vision 384x6, text 384x4), " + std::to_string(cameras) + " cameras 256x256, 10 steps").c_str(),
             cases, obs, runs);
    auto* s = static_cast<sched::ScheduledSmolVlaPolicy*>(cases[1].policy.get());
    const sched::RunReport& r = s->last_report();
    std::printf("blocks (vision every chunk): vision %.1f ms, llm %.1f ms, expert %.1f ms\n", r.blocks[0].ms,
                r.blocks[1].ms, r.blocks[2].ms);
    cases.clear();
  }
  std::filesystem::remove_all(tmp);
  return 0;
}
