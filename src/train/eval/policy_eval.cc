#include "train/eval/policy_eval.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "io/safetensors.h"
#include "models/act/act_model.h"
#include "models/smolvla/smolvla_model.h"
#include "runtime/async/act_chunk_policy.h"
#include "runtime/async/sim/camera_observer.h"
#include "runtime/async/sim/sim_runner.h"
#include "runtime/async/smolvla_chunk_policy.h"

namespace embody::train {

namespace {

struct PolicySetup {
  std::unique_ptr<runtime::Policy> policy;
  std::vector<runtime::simrun::CameraSpec> cameras;
  std::string type;
  double temporal_ensemble_coeff = 0;  // the checkpoint's (ACT), 0: none
};

Result<PolicySetup> MakePolicy(const std::string& dir, const EvalOptions& o) {
  EMBODY_ASSIGN_OR_RETURN(io::Json cfg, io::ReadJsonFile(dir + "/config.json"));
  const std::string type = cfg.value("type", "");
  PolicySetup p;
  p.type = type;
  if (type == "act") {
    models::act::ActOptions opt;
    opt.threads = o.threads;
    opt.plan = o.plan;
    EMBODY_ASSIGN_OR_RETURN(auto model, models::act::ActModel::Load(dir, opt));
    for (size_t i = 0; i < model->config().num_cameras(); ++i) {
      const auto& f = model->config().camera(i);
      p.cameras.push_back({f.key, static_cast<int>(f.shape[1]), static_cast<int>(f.shape[2])});
    }
    p.temporal_ensemble_coeff = model->config().temporal_ensemble_coeff.value_or(0.0);
    p.policy = std::make_unique<runtime::ActChunkPolicy>(std::move(model));
  } else if (type == "smolvla") {
    models::smolvla::SmolVlaOptions opt;
    opt.threads = o.threads;
    opt.tokenizer_path = o.tokenizer;
    opt.plan = o.plan;
    EMBODY_ASSIGN_OR_RETURN(auto model, models::smolvla::SmolVlaModel::Load(dir, opt));
    for (size_t i = 0; i < model->config().num_cameras(); ++i) {
      const auto& f = model->config().camera(i);
      p.cameras.push_back({f.key, static_cast<int>(f.shape[1]), static_cast<int>(f.shape[2])});
    }
    p.policy = std::make_unique<runtime::SmolVlaChunkPolicy>(std::move(model), o.task);
  } else {
    return Unimplemented(dir + "/config.json: policy type '" + type + "': act or smolvla");
  }
  return p;
}

// The weights' storage format, from model.safetensors' first floating-point tensor.
std::string WeightFormat(const std::string& dir) {
  auto f = io::SafetensorsFile::Open(dir + "/model.safetensors");
  if (!f.ok()) return "?";
  for (const io::TensorEntry& e : (*f)->entries())
    if (e.dtype == DType::kF32 || e.dtype == DType::kBF16 || e.dtype == DType::kF16) {
      std::string name(DTypeName(e.dtype));
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      return name;
    }
  return "?";
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

std::string PlatformName(int threads) {
  std::string model = "CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned n = threads > 0 ? static_cast<unsigned>(threads) : cores;
  return model + ", " + std::to_string(n) + (n == 1 ? " thread" : " threads");
}

Result<EvalSummary> EvaluateCheckpoint(const std::string& dir, const EvalOptions& o, const EvalProgress& progress) {
  EMBODY_ASSIGN_OR_RETURN(runtime::LatencyProfile latency, runtime::ParseLatencyProfile(o.latency));
  sim::TaskOptions topt;
  topt.episode_seconds = o.max_seconds;
  EMBODY_ASSIGN_OR_RETURN(auto task, sim::TeaBagTask::Load(topt));
  sim::Episode episode(*task);
  EMBODY_ASSIGN_OR_RETURN(PolicySetup setup, MakePolicy(dir, o));
  EMBODY_ASSIGN_OR_RETURN(auto cameras, runtime::simrun::CameraObserver::Create(*task, setup.cameras));
  const runtime::simrun::Observer observer = [&](const sim::Episode& e, runtime::PolicyObservation* obs) {
    return cameras->Observe(e, obs);
  };
  runtime::simrun::SimRunOptions ro;
  ro.mode = o.async ? runtime::simrun::Mode::kAsync : runtime::simrun::Mode::kSync;
  ro.latency = latency;
  ro.threshold = o.threshold;
  ro.temporal_ensemble_coeff = o.temporal_ensemble >= 0 ? o.temporal_ensemble : setup.temporal_ensemble_coeff;
  if (ro.temporal_ensemble_coeff > 0 && o.async)
    return InvalidArgument(dir + ": temporal ensembling (coefficient " + std::to_string(ro.temporal_ensemble_coeff) +
                           ") needs --mode sync; pass --temporal-ensemble 0 for async");

  EvalSummary s;
  s.checkpoint = dir;
  s.policy = setup.type;
  s.format = o.plan.empty() ? WeightFormat(dir) : o.plan;
  s.mode = o.async ? "async" : "sync";
  if (ro.temporal_ensemble_coeff > 0) {
    std::ostringstream m;
    m << "sync, ensemble " << ro.temporal_ensemble_coeff;
    s.mode = m.str();
  }
  if (o.async && o.threshold != EvalOptions{}.threshold) {  // the table names a non-default threshold
    std::ostringstream m;
    m << "async, threshold " << o.threshold;
    s.mode = m.str();
  }
  s.latency_profile = latency.name;
  s.platform = PlatformName(o.threads);
  const std::vector<EvalEpisode> set =
      MakeEvalSet(task->num_clusters(), sim::kValidationCluster, o.per_cluster, o.val_episodes, o.seed_base);
  std::vector<double> latencies;
  for (const EvalEpisode& e : set) {
    EMBODY_ASSIGN_OR_RETURN(runtime::simrun::SimEpisodeReport r,
                            runtime::simrun::RunPolicyEpisode(episode, *setup.policy, e.spec, ro, observer));
    EvalEpisodeResult er{e.set, e.spec.cluster, e.spec.seed, r.success, r.time_to_success, r.policy_error,
                         r.max_bag_lift};
    if (!r.policy_error.empty()) return Internal(dir + ": policy failed in episode seed " + std::to_string(e.spec.seed) +
                                                 ": " + r.policy_error);
    if (r.inferences > 0) latencies.push_back(r.mean_latency_ms);
    (e.set == "test" ? s.test_total : s.val_total) += 1;
    (e.set == "test" ? s.test_success : s.val_success) += r.success;
    s.episodes.push_back(er);
    if (progress) progress(static_cast<int>(s.episodes.size()), static_cast<int>(set.size()), er);
  }
  s.latency_ms = Median(latencies);
  return s;
}

}  // namespace embody::train
