#include "runtime/sched/policy_loader.h"

#include <atomic>
#include <thread>

#include "io/json_file.h"
#include "runtime/async/act_chunk_policy.h"
#include "runtime/async/smolvla_chunk_policy.h"
#include "runtime/sched/scheduled_act_policy.h"
#include "runtime/sched/scheduled_smolvla_policy.h"
#include "runtime/sched/thread_bound_policy.h"

namespace embody::runtime::sched {

namespace {

Result<std::string> CheckpointType(const std::string& dir) {
  const std::string path = dir + "/config.json";
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    return InvalidArgument(path + ": missing \"type\" (expected \"act\" or \"smolvla\")");
  const std::string type = j["type"].get<std::string>();
  if (type != "act" && type != "smolvla")
    return Unimplemented(path + ": policy type \"" + type + "\" is not supported (act, smolvla)");
  return type;
}

template <typename Config>
void Describe(const Config& c, LoadedPolicy* out) {
  for (size_t i = 0; i < c.num_cameras(); ++i) {
    const auto& f = c.camera(i);
    out->cameras.push_back({f.key, static_cast<int>(f.shape[1]), static_cast<int>(f.shape[2])});
  }
  out->state_dim = static_cast<int>(c.state_dim());
}

}  // namespace

Result<LoadedPolicy> LoadCheckpointPolicy(const std::string& dir, const PolicyLoadOptions& o) {
  LoadedPolicy out;
  EMBODY_ASSIGN_OR_RETURN(out.type, CheckpointType(dir));
  std::vector<Executor*> executors;
  if (!o.executors.empty()) {
    EMBODY_ASSIGN_OR_RETURN(std::vector<CpuExecutorOptions> specs, ParseCpuExecutors(o.executors));
    for (CpuExecutorOptions& s : specs) {
      out.executors.push_back(std::make_unique<CpuExecutor>(std::move(s)));
      executors.push_back(out.executors.back().get());
    }
  } else if (o.vision_every != 1 || o.adaptive_vision) {
    return InvalidArgument("--vision-every / --adaptive-vision need the scheduler: give --executors (e.g. 1x2)");
  }
  if (out.type == "act") {
    models::act::ActOptions opt;
    opt.threads = o.threads;
    if (executors.empty()) {
      EMBODY_ASSIGN_OR_RETURN(out.policy, ThreadBoundPolicy::Create([&]() -> Result<std::unique_ptr<Policy>> {
        EMBODY_ASSIGN_OR_RETURN(auto model, models::act::ActModel::Load(dir, opt));
        Describe(model->config(), &out);
        return std::unique_ptr<Policy>(std::make_unique<ActChunkPolicy>(std::move(model)));
      }, o.threads));
    } else {
      EMBODY_ASSIGN_OR_RETURN(auto p, ScheduledActPolicy::Create([&] { return models::act::ActModel::Load(dir, opt); },
                                                                 executors));
      if (!p->replica_error().empty()) out.notes.push_back("backbone replicas: " + p->replica_error());
      Describe(p->model().config(), &out);
      out.policy = std::move(p);
    }
  } else {
    models::smolvla::SmolVlaOptions opt;
    opt.threads = o.threads;
    opt.tokenizer_path = o.tokenizer;
    if (executors.empty()) {
      EMBODY_ASSIGN_OR_RETURN(out.policy, ThreadBoundPolicy::Create([&]() -> Result<std::unique_ptr<Policy>> {
        EMBODY_ASSIGN_OR_RETURN(auto model, models::smolvla::SmolVlaModel::Load(dir, opt));
        Describe(model->config(), &out);
        return std::unique_ptr<Policy>(std::make_unique<SmolVlaChunkPolicy>(std::move(model), o.task));
      }, o.threads));
    } else {
      SmolVlaScheduleOptions so;
      so.vision_every = o.vision_every;
      so.adaptive = o.adaptive_vision;
      EMBODY_ASSIGN_OR_RETURN(auto p, ScheduledSmolVlaPolicy::Create(
                                          [&] { return models::smolvla::SmolVlaModel::Load(dir, opt); }, o.task,
                                          executors, so));
      Describe(p->model().config(), &out);
      out.policy = std::move(p);
    }
  }
  // pinning happens on the executors' threads: ask them after a first task has run
  for (auto& e : out.executors) {
    std::atomic<bool> ran{false};
    e->Submit(0, [&] { ran = true; });
    while (!ran.load()) std::this_thread::yield();
    if (!e->affinity_error().empty()) out.notes.push_back(e->affinity_error());
  }
  return out;
}

}  // namespace embody::runtime::sched
