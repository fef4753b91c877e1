// embody serve: hold a policy (a checkpoint, or the simulation's oracle) behind a gRPC server for
// robots too small to run it (issue 6). Clients: `embody run --policy grpc://host:port ...`, or any
// program speaking src/serve/proto/policy_service.proto. Runs until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/common.h"
#include "runtime/sched/policy_loader.h"
#include "serve/policy_server.h"
#ifdef EMBODY_HAVE_SIM
#include "runtime/async/sim/privileged.h"
#include "sim/task.h"
#endif

namespace embody::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct ServeArgs {
  std::string policy, listen = "0.0.0.0:50051";
  int threads = 0, vision_every = 1, chunk = 50;
  std::string executors, task = "put the tea bag in the mug", tokenizer;
  bool adaptive_vision = false;
  double oracle_latency_ms = 0, oracle_bias_deg = 0;
  double max_seconds = 0;  // > 0: stop after this long (tests, demos)
};

// Holds a loaded checkpoint (its executors and policy) as one Policy the server can own.
class LoadedHolder : public runtime::Policy {
 public:
  explicit LoadedHolder(runtime::sched::LoadedPolicy l) : l_(std::move(l)) {}
  std::string_view name() const override { return l_.policy->name(); }
  int chunk_size() const override { return l_.policy->chunk_size(); }
  int n_action_steps() const override { return l_.policy->n_action_steps(); }
  int action_dim() const override { return l_.policy->action_dim(); }
  Status PredictChunk(const runtime::PolicyObservation& obs, float* chunk) override { return l_.policy->PredictChunk(obs, chunk); }
  const std::vector<runtime::BlockLatency>& last_latencies() const override { return l_.policy->last_latencies(); }
  double last_total_ms() const override { return l_.policy->last_total_ms(); }
  void SetLatencyBudget(double ms) override { l_.policy->SetLatencyBudget(ms); }
  void Reset() override { l_.policy->Reset(); }

 private:
  runtime::sched::LoadedPolicy l_;
};

int RunServe(const ServeArgs& a) {
  serve::PolicyFactory factory;
  std::vector<std::string> notes;
#ifdef EMBODY_HAVE_SIM
  std::unique_ptr<sim::TeaBagTask> task;
#endif
  if (a.policy == "oracle") {
#ifdef EMBODY_HAVE_SIM
    if (a.chunk < 2) return Fail(InvalidArgument("--chunk must be at least 2"));
    auto t = sim::TeaBagTask::Load(sim::TaskOptions{});
    if (!t.ok()) return Fail(t.status());
    task = std::move(*t);
    factory = [&](serve::PolicyDescription* d) -> Result<std::unique_ptr<runtime::Policy>> {
      d->state_dim = sim::kNumJoints;
      d->needs_sim_state = true;
      return std::unique_ptr<runtime::Policy>(
          std::make_unique<runtime::simrun::MirroredOraclePolicy>(*task, a.chunk, a.oracle_latency_ms, a.oracle_bias_deg));
    };
#else
    return Fail(Unimplemented("the oracle needs the simulation, and this embody was built without MuJoCo"));
#endif
  } else {
    runtime::sched::PolicyLoadOptions lo;
    lo.threads = a.threads;
    lo.executors = a.executors;
    lo.vision_every = a.vision_every;
    lo.adaptive_vision = a.adaptive_vision;
    lo.task = a.task;
    lo.tokenizer = a.tokenizer;
    // on the server's policy thread: a model runs where it was built
    factory = [&, lo](serve::PolicyDescription* d) -> Result<std::unique_ptr<runtime::Policy>> {
      EMBODY_ASSIGN_OR_RETURN(runtime::sched::LoadedPolicy l, runtime::sched::LoadCheckpointPolicy(a.policy, lo));
      for (const auto& c : l.cameras) d->cameras.push_back({c.key, c.height, c.width});
      d->state_dim = l.state_dim;
      notes = l.notes;
      return std::unique_ptr<runtime::Policy>(std::make_unique<LoadedHolder>(std::move(l)));
    };
  }
  serve::ServerOptions so;
  so.listen = a.listen;
  so.threads = a.threads;
  auto server = serve::PolicyServer::Start(factory, so);
  if (!server.ok()) return Fail(server.status());
  for (const std::string& note : notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  const std::string name = std::string((*server)->policy_name());
  const serve::PolicyDescription& desc = (*server)->description();
  std::string cams;
  for (const auto& c : desc.cameras) cams += " " + c.key + " " + std::to_string(c.height) + "x" + std::to_string(c.width);
  std::printf("serving %s (chunk %d, action_dim %d, state_dim %d%s%s) on port %d (%s); Ctrl-C stops\n",
              name.c_str(), (*server)->chunk_size(), (*server)->action_dim(), desc.state_dim,
              cams.empty() ? "" : ", cameras:", cams.c_str(), (*server)->port(), a.listen.c_str());
  std::fflush(stdout);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const auto start = std::chrono::steady_clock::now();
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (a.max_seconds > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= a.max_seconds)
      break;
  }
  (*server)->Shutdown(2000);
  const serve::ServerStats st = (*server)->stats();
  std::printf("stopped: %lld chunks served, %lld policy errors, %lld refused (client deadline passed while busy)\n",
              static_cast<long long>(st.predictions), static_cast<long long>(st.errors),
              static_cast<long long>(st.refused_late));
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<ServeArgs>();
  auto* sub = app.add_subcommand("serve", "Serve a policy over gRPC to remote robots (embody run --policy grpc://...)");
  sub->add_option("--policy", a->policy, "A checkpoint folder, or 'oracle' (the simulation's expert)")->required();
  sub->add_option("--listen", a->listen, "host:port to listen on (port 0: any free port)");
  sub->add_option("--threads", a->threads, "Threads (0: all cores)");
  sub->add_option("--executors", a->executors, "Run the blocks on the scheduler's executors, NxT[@cpus] (e.g. 2x1@0,1)");
  sub->add_option("--vision-every", a->vision_every, "SmolVLA with --executors: encode the cameras every N chunks")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--adaptive-vision", a->adaptive_vision,
                "SmolVLA with --executors: skip the vision block when the full path does not fit the client's budget");
  sub->add_option("--task", a->task, "SmolVLA: the default instruction (a client's task overrides it)");
  sub->add_option("--tokenizer", a->tokenizer, "SmolVLA: tokenizer.json (default: <checkpoint>/tokenizer/)");
  sub->add_option("--chunk", a->chunk, "Oracle: actions per chunk");
  sub->add_option("--oracle-latency", a->oracle_latency_ms, "Oracle: latency it reports (ms)");
  sub->add_option("--oracle-bias", a->oracle_bias_deg, "Oracle: per-chunk offset of each arm joint, uniform in +-DEG");
  sub->add_option("--max-seconds", a->max_seconds, "Stop after this many seconds (0: run until Ctrl-C)");
  sub->callback([&run, a] { run = [a] { return RunServe(*a); }; });
}

}  // namespace embody::cli
