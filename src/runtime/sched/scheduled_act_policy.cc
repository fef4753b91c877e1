#include "runtime/sched/scheduled_act_policy.h"

#include <algorithm>
#include <string>

namespace embody::runtime::sched {

Result<std::unique_ptr<ScheduledActPolicy>> ScheduledActPolicy::Create(const Loader& load, std::vector<Executor*> executors) {
  if (executors.empty()) return InvalidArgument("scheduled ACT: no executors");
  for (Executor* e : executors)
    if (!e) return InvalidArgument("scheduled ACT: null executor");
  std::unique_ptr<ScheduledActPolicy> p(new ScheduledActPolicy());
  EMBODY_TRY(RunOn(*executors[0], [&]() -> Status {
    EMBODY_ASSIGN_OR_RETURN(p->model_, load());
    return Status::Ok();
  }));
  if (!p->model_) return InvalidArgument("scheduled ACT: the loader gave no model");
  const int cams = static_cast<int>(p->model_->config().num_cameras());
  const int ne = static_cast<int>(executors.size());
  // Replica e on executor e, for as many executors as cameras can use at once.
  for (int e = 1; e < std::min(ne, cams); ++e) {
    if (Status s = RunOn(*executors[static_cast<size_t>(e)], [&] { return p->model_->AddBackboneReplicas(1); });
        !s.ok()) {
      p->replica_error_ = s.ToString();
      break;
    }
  }
  const int replicas = p->model_->backbone_replicas();
  std::vector<int> with_replica;
  for (int e = 0; e < replicas; ++e) with_replica.push_back(e);

  p->obs_.images.resize(static_cast<size_t>(cams));
  ScheduledActPolicy* self = p.get();
  std::vector<BlockTask> graph;
  std::vector<int> all_cams;
  for (int c = 0; c < cams; ++c) {
    BlockTask t;
    t.name = "backbone." + std::to_string(c);
    t.run = [self, c](const ExecContext& ctx) {
      return self->model_->RunBackbone(self->obs_, static_cast<size_t>(c), ctx.executor);
    };
    t.allowed = with_replica;  // executor e runs replica e, built there
    t.prior_ms = 3;
    graph.push_back(std::move(t));
    all_cams.push_back(c);
    p->latencies_.push_back({graph.back().name, 0});
  }
  BlockTask tr;
  tr.name = "transformer";
  tr.deps = all_cams;
  tr.run = [self](const ExecContext&) { return self->model_->RunTransformer(self->obs_, self->chunk_, nullptr); };
  tr.prior_ms = 1;
  tr.pin = 0;           // built with the model on executor 0
  tr.all_cores = true;  // it waits for every camera: nothing else runs meanwhile
  graph.push_back(std::move(tr));
  p->latencies_.push_back({"encoder", 0});
  p->latencies_.push_back({"decoder", 0});
  EMBODY_ASSIGN_OR_RETURN(p->scheduler_, BlockScheduler::Create(std::move(executors), std::move(graph)));
  return p;
}

ScheduledActPolicy::~ScheduledActPolicy() {
  if (model_ && scheduler_)
    (void)RunOn(*scheduler_->executors()[0], [&] {
      model_.reset();
      return Status::Ok();
    });
}

Status ScheduledActPolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  if (obs.images.size() != obs_.images.size())
    return InvalidArgument("ACT expects " + std::to_string(obs_.images.size()) + " camera images, got " +
                           std::to_string(obs.images.size()));
  for (size_t i = 0; i < obs.images.size(); ++i) obs_.images[i] = {obs.images[i].pixels, obs.images[i].height, obs.images[i].width};
  obs_.state = obs.state;
  obs_.env_state = obs.env_state;
  chunk_ = chunk;
  auto run = scheduler_->Run();
  if (!run.ok()) return run.status().WithContext("ACT chunk");
  report_ = std::move(*run);
  const models::act::ActBlockTimes& t = model_->last_times();
  for (size_t i = 0; i < t.backbone_ms.size() && i + 2 < latencies_.size(); ++i) latencies_[i].ms = t.backbone_ms[i];
  latencies_[latencies_.size() - 2].ms = t.encoder_ms;
  latencies_.back().ms = t.decoder_ms;
  return Status::Ok();
}

}  // namespace embody::runtime::sched
