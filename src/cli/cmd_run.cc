// embody run: a chunking policy (the scripted oracle or a checkpoint) acting on the tea-bag task
// in simulated time, synchronously or asynchronously (issue 6, docs/async.md).
//
// --mode, --latency and --smooth-ticks take comma-separated lists; every combination runs on the
// same episodes (same seeds), so the summary table compares them directly.
//
// --policy is the oracle, a checkpoint (optionally on the block scheduler: --executors), or a
// policy server (grpc://host:port, see embody serve).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/robot_cli.h"  // run --robot (issue 10)
#include "core/timer.h"
#include "runtime/async/sim/camera_observer.h"
#include "runtime/async/sim/oracle_policy.h"
#include "runtime/async/sim/privileged.h"
#include "runtime/async/sim/sim_runner.h"
#include "runtime/async/sim/trace_plot.h"
#include "runtime/sched/policy_loader.h"
#ifdef EMBODY_HAVE_SERVE
#include "serve/remote_policy.h"
#endif

namespace embody::cli {

namespace {

using runtime::simrun::Mode;

struct RunArgs {
  std::string policy = "oracle";
  bool sim = false;
  std::string modes = "async", latencies = "measured", smooth = "0";
  int episodes = 5, cluster = 6, chunk = 50, threads = 0;
  uint64_t seed = 0;
  double threshold = 0.5, oracle_latency_ms = 0, oracle_bias_deg = 0, max_seconds = 15;
  std::string aggregate = "weighted_average", task = "put the tea bag in the mug", tokenizer, plot;
  bool adaptive = false, json = false;
  std::string executors;  // checkpoints: the block scheduler's executors ("" : plain policy)
  int vision_every = 1;
  bool adaptive_vision = false;
  double deadline_ms = 10000, connect_timeout_ms = 5000;  // grpc://
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Config {
  Mode mode;
  runtime::LatencyProfile latency;
  int smooth;
  runtime::Aggregate aggregate;
  std::string label;
};

struct Row {
  Config config;
  int success = 0, episodes = 0;
  std::vector<double> times;  // time to success of successful episodes
  double idle = 0, startup = 0, switches = 0, late = 0, seam = 0, wall_s = 0;
  std::string warning, error;
};

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The policy and, for checkpoints and servers, the cameras it needs rendered.
struct PolicySetup {
  runtime::sched::LoadedPolicy loaded;     // checkpoints: the policy and its executors
  std::unique_ptr<runtime::Policy> other;  // the oracle or a remote policy
  runtime::Policy* policy = nullptr;
  std::vector<runtime::simrun::CameraSpec> cameras;
  bool observes = false;  // a checkpoint or server: observes cameras (maybe none) and the state
  bool needs_sim_state = false;  // a remote oracle: send the simulation's state with observations
  std::vector<std::string> notes;
};

Result<PolicySetup> MakePolicy(const RunArgs& a, const sim::TeaBagTask& task, const sim::Episode& episode) {
  PolicySetup p;
  if (a.policy == "oracle") {
    if (a.chunk < 2) return InvalidArgument("--chunk must be at least 2");
    p.other = std::make_unique<runtime::simrun::OraclePolicy>(task, episode, a.chunk, a.oracle_latency_ms,
                                                                  a.oracle_bias_deg);
  } else if (a.policy.rfind("grpc://", 0) == 0) {
#ifdef EMBODY_HAVE_SERVE
    serve::RemoteOptions ro;
    ro.deadline_ms = a.deadline_ms;
    ro.connect_timeout_ms = a.connect_timeout_ms;
    EMBODY_ASSIGN_OR_RETURN(auto remote, serve::RemotePolicy::Connect(a.policy, ro));
    for (const auto& c : remote->description().cameras) p.cameras.push_back({c.key, c.height, c.width});
    p.needs_sim_state = remote->description().needs_sim_state;
    p.observes = true;
    p.other = std::move(remote);
#else
    return Unimplemented("this embody was built without gRPC (scripts/setup.sh installs it): no grpc:// policies");
#endif
  } else {
    runtime::sched::PolicyLoadOptions lo;
    lo.threads = a.threads;
    lo.executors = a.executors;
    lo.vision_every = a.vision_every;
    lo.adaptive_vision = a.adaptive_vision;
    lo.task = a.task;
    lo.tokenizer = a.tokenizer;
    EMBODY_ASSIGN_OR_RETURN(p.loaded, runtime::sched::LoadCheckpointPolicy(a.policy, lo));
    for (const auto& c : p.loaded.cameras) p.cameras.push_back({c.key, c.height, c.width});
    p.observes = true;
    p.notes = p.loaded.notes;
  }
  p.policy = p.other ? p.other.get() : p.loaded.policy.get();
  return p;
}

int RunRun(const RunArgs& a) {
  if (!a.sim)
    return Fail(Unimplemented("embody run needs --sim (the simulated task) or --robot so101 --port ... (the real arm)"));
  std::vector<runtime::Aggregate> aggregates;
  for (const std::string& name : SplitList(a.aggregate)) {
    auto agg = runtime::ParseAggregate(name);
    if (!agg.ok()) return Fail(agg.status());
    aggregates.push_back(*agg);
  }
  std::vector<Config> configs;
  for (const std::string& m : SplitList(a.modes)) {
    if (m != "sync" && m != "async") return Fail(InvalidArgument("--mode: sync or async, got '" + m + "'"));
    for (const std::string& l : SplitList(a.latencies)) {
      auto profile = runtime::ParseLatencyProfile(l);
      if (!profile.ok()) return Fail(profile.status());
      for (const std::string& s : SplitList(a.smooth)) {
        int ticks = 0;
        try {
          ticks = std::stoi(s);
        } catch (const std::exception&) {
          return Fail(InvalidArgument("--smooth-ticks: integers, got '" + s + "'"));
        }
        for (runtime::Aggregate agg : aggregates) {
          std::string label = m + " " + l + " smooth " + s;
          if (aggregates.size() > 1) label += " " + std::string(runtime::AggregateName(agg));
          configs.push_back({m == "sync" ? Mode::kSync : Mode::kAsync, *profile, ticks, agg, label});
        }
      }
    }
  }
  if (configs.empty()) return Fail(InvalidArgument("nothing to run: empty --mode, --latency or --smooth-ticks"));

  sim::TaskOptions topt;
  topt.episode_seconds = a.max_seconds;
  auto task_or = sim::TeaBagTask::Load(topt);
  if (!task_or.ok()) return Fail(task_or.status());
  const sim::TeaBagTask& task = **task_or;
  if (a.cluster < 0 || a.cluster >= task.num_clusters()) return Fail(OutOfRange("--cluster " + std::to_string(a.cluster)));
  sim::Episode episode(task);
  auto setup = MakePolicy(a, task, episode);
  if (!setup.ok()) return Fail(setup.status());
  runtime::Policy& policy = *setup->policy;
  for (const std::string& note : setup->notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  std::unique_ptr<runtime::simrun::CameraObserver> cameras;
  if (setup->observes) {  // also without cameras: a state-only checkpoint needs the state
    auto c = runtime::simrun::CameraObserver::Create(task, setup->cameras);
    if (!c.ok()) return Fail(c.status());
    cameras = std::move(*c);
  }
  runtime::SimPrivileged sim_state;
  runtime::simrun::Observer observer;
  if (cameras || setup->needs_sim_state) {
    observer = [&, needs_sim = setup->needs_sim_state](const sim::Episode& e, runtime::PolicyObservation* obs) -> Status {
      if (cameras) EMBODY_TRY(cameras->Observe(e, obs));
      if (needs_sim) {
        runtime::simrun::CaptureSimState(e, &sim_state);
        obs->sim = &sim_state;
      }
      return Status::Ok();
    };
  }

  std::vector<Row> rows;
  io::Json episodes_json = io::Json::array();
  for (size_t ci = 0; ci < configs.size(); ++ci) {
    const Config& cfg = configs[ci];
    runtime::simrun::SimRunOptions o;
    o.mode = cfg.mode;
    o.latency = cfg.latency;
    o.threshold = a.threshold;
    o.merge = {cfg.aggregate, cfg.smooth};
    o.adaptive_threshold = a.adaptive;
    Row row{cfg};
    Stopwatch sw;
    for (int i = 0; i < a.episodes; ++i) {
      o.trace = !a.plot.empty() && i == 0;
      const sim::EpisodeSpec spec{a.seed + static_cast<uint64_t>(i), a.cluster, false};
      auto r = runtime::simrun::RunPolicyEpisode(episode, policy, spec, o, observer);
      if (!r.ok()) return Fail(r.status());
      ++row.episodes;
      row.success += r->success;
      if (r->success) row.times.push_back(r->time_to_success);
      row.idle += r->idle_ticks;
      row.startup += r->startup_ticks;
      row.switches += r->chunk_switches;
      row.late += r->late_inferences;
      row.seam = std::max(row.seam, r->max_seam_jump);
      if (!r->warning.empty()) row.warning = r->warning;
      if (!r->policy_error.empty()) row.error = r->policy_error;
      if (o.trace) {
        std::string path = a.plot;
        if (ci > 0) path = path.substr(0, path.rfind('.')) + "_" + std::to_string(ci) + ".png";
        if (Status s = io::SavePng(path, runtime::simrun::PlotTrace(r->trace, policy.chunk_size())); !s.ok()) return Fail(s);
        if (!a.json)
          std::printf("wrote %s (%s, episode 0): blue queue size 0..%d, red latency in flight 0..%.0f ms, grey idle\n",
                      path.c_str(), cfg.label.c_str(), policy.chunk_size(), r->mean_latency_ms);
      }
      episodes_json.push_back({{"config", cfg.label}, {"seed", spec.seed}, {"cluster", spec.cluster},
                               {"success", r->success}, {"time_to_success", r->time_to_success},
                               {"ticks", r->ticks}, {"idle_ticks", r->idle_ticks}, {"startup_ticks", r->startup_ticks},
                               {"chunk_switches", r->chunk_switches}, {"inferences", r->inferences},
                               {"late_inferences", r->late_inferences}, {"stale_actions", r->stale_actions},
                               {"max_seam_jump_deg", r->max_seam_jump}, {"mean_latency_ms", r->mean_latency_ms},
                               {"final_threshold", r->final_threshold}, {"warning", r->warning},
                               {"policy_error", r->policy_error}});
      if (!a.json)
        std::printf("%-28s seed %3llu %-7s t %6.2f s  idle %4d  startup %3d  switches %3d  late %3d  seam %5.1f deg%s%s\n",
                    cfg.label.c_str(), static_cast<unsigned long long>(spec.seed), r->success ? "success" : "FAIL",
                    r->time_to_success, r->idle_ticks, r->startup_ticks, r->chunk_switches, r->late_inferences,
                    r->max_seam_jump, r->policy_error.empty() ? "" : "  policy error: ", r->policy_error.c_str());
    }
    row.wall_s = sw.ElapsedMs() / 1000.0;
    rows.push_back(row);
  }

  if (a.json) {
    io::Json summary = io::Json::array();
    for (const Row& r : rows)
      summary.push_back({{"config", r.config.label}, {"success", r.success}, {"episodes", r.episodes},
                         {"median_time_to_success", Median(r.times)}, {"mean_idle_ticks", r.idle / r.episodes},
                         {"mean_startup_ticks", r.startup / r.episodes}, {"mean_chunk_switches", r.switches / r.episodes},
                         {"mean_late_inferences", r.late / r.episodes}, {"max_seam_jump_deg", r.seam},
                         {"warning", r.warning}});
    PrintJson({{"policy", std::string(policy.name())}, {"chunk_size", policy.chunk_size()}, {"threshold", a.threshold},
               {"adaptive_threshold", a.adaptive}, {"episodes", episodes_json}, {"summary", summary}});
    return 0;
  }
  const std::string bias = a.policy == "oracle" && a.oracle_bias_deg > 0
                               ? " (bias +-" + std::to_string(a.oracle_bias_deg) + " deg)" : "";
  std::printf("\npolicy %s%s, chunk %d, threshold %.2f%s, cluster %d, seeds %llu..%llu, %.0f s limit\n",
              std::string(policy.name()).c_str(), bias.c_str(), policy.chunk_size(), a.threshold,
              a.adaptive ? " (adaptive)" : "", a.cluster,
              static_cast<unsigned long long>(a.seed), static_cast<unsigned long long>(a.seed + a.episodes - 1),
              a.max_seconds);
  std::printf("| mode | latency | aggregate | smooth | success | median time to success (s) | idle ticks/ep | startup | switches/ep | late/ep | max seam (deg/tick) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows)
    std::printf("| %s | %s | %s | %d | %d/%d | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                r.config.mode == Mode::kSync ? "sync" : "async", r.config.latency.name.c_str(),
                std::string(runtime::AggregateName(r.config.aggregate)).c_str(), r.config.smooth,
                r.success, r.episodes, Median(r.times), r.idle / r.episodes, r.startup / r.episodes,
                r.switches / r.episodes, r.late / r.episodes, r.seam);
  for (const Row& r : rows) {
    if (!r.warning.empty()) std::printf("warning (%s): %s\n", r.config.label.c_str(), r.warning.c_str());
    if (!r.error.empty()) std::printf("policy error (%s): %s\n", r.config.label.c_str(), r.error.c_str());
  }
  return 0;
}

}  // namespace

void RegisterRun(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand("run", "Run a chunking policy on the simulated task, sync or async, in simulated time");
  sub->add_option("--policy", a->policy,
                  "'oracle' (the scripted expert, chunked), a checkpoint folder, or grpc://host:port (embody serve)");
  sub->add_flag("--sim", a->sim, "Run on the MuJoCo tea-bag task (required for now)");
  sub->add_option("--mode", a->modes, "async, sync, or a list: sync,async");
  sub->add_option("--latency", a->latencies,
                  "Charged latency per chunk: ms (250, 2.5s), measured, x<factor>, imx95-act; or a list");
  sub->add_option("--episodes", a->episodes, "Episodes per configuration (seeds seed..seed+N-1)")->check(CLI::PositiveNumber);
  sub->add_option("--cluster", a->cluster, "Workspace cluster of the bag (6: the validation cluster)");
  sub->add_option("--seed", a->seed, "Seed of the first episode");
  sub->add_option("--threshold", a->threshold, "chunk_size_threshold: infer when queue/chunk <= this")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--aggregate", a->aggregate, "weighted_average, latest_only, average, conservative; or a list");
  sub->add_option("--smooth-ticks", a->smooth, "Ramp-in length at chunk seams (0: off); or a list: 0,5");
  sub->add_flag("--adaptive-threshold", a->adaptive, "Raise/lower the threshold to cover the measured T_inference");
  sub->add_option("--chunk", a->chunk, "Oracle: actions per chunk");
  sub->add_option("--oracle-latency", a->oracle_latency_ms, "Oracle: latency it reports (ms), charged by --latency measured");
  sub->add_option("--oracle-bias", a->oracle_bias_deg,
                  "Oracle: per-chunk offset of each arm joint, uniform in +-DEG (chunks disagree like a learned policy's)");
  sub->add_option("--max-seconds", a->max_seconds, "Episode time limit (simulated seconds)");
  sub->add_option("--threads", a->threads, "Checkpoint policies: threads (0: all cores)");
  sub->add_option("--executors", a->executors,
                  "Checkpoints: run the blocks on the scheduler's executors, NxT[@cpus] (2x1@0,1: two 1-thread "
                  "executors pinned to CPUs 0 and 1; cameras run in parallel)");
  sub->add_option("--vision-every", a->vision_every,
                  "SmolVLA with --executors: encode the cameras every N chunks, prefill+expert every chunk")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--adaptive-vision", a->adaptive_vision,
                "SmolVLA with --executors: skip the vision block when the full path does not fit the queue's budget");
  sub->add_option("--deadline-ms", a->deadline_ms, "grpc://: deadline of each remote prediction")->check(CLI::PositiveNumber);
  sub->add_option("--connect-timeout-ms", a->connect_timeout_ms, "grpc://: time to wait for the server")
      ->check(CLI::PositiveNumber);
  sub->add_option("--task", a->task, "SmolVLA: the instruction");
  sub->add_option("--tokenizer", a->tokenizer, "SmolVLA: tokenizer.json (default: <checkpoint>/tokenizer/)");
  sub->add_option("--plot", a->plot, "PNG of episode 0's queue size and latency over time (per configuration)");
  sub->add_flag("--json", a->json, "Machine-readable output");
  auto robot = std::make_shared<RobotRunArgs>();  // --robot so101 --port ... --camera ...: the real arm
  AddRobotRunOptions(sub, *robot);
  sub->callback([&run, a, robot] {
    run = [a, robot] {
      if (robot->arm.type.empty()) return RunRun(*a);
      return RunRobot(*robot, {.policy = a->policy, .aggregate = a->aggregate, .task = a->task, .threshold = a->threshold,
                               .oracle_latency_ms = a->oracle_latency_ms, .chunk = a->chunk, .threads = a->threads,
                               .json = a->json});
    };
  });
}

}  // namespace embody::cli
