#include "runtime/sched/scheduled_smolvla_policy.h"

namespace embody::runtime::sched {

namespace {
constexpr int kVision = 0, kLlm = 1, kExpert = 2;
using Block = models::smolvla::SmolVlaModel::Block;
}  // namespace

Result<std::unique_ptr<ScheduledSmolVlaPolicy>> ScheduledSmolVlaPolicy::Create(const Loader& load, std::string default_task,
                                                                               std::vector<Executor*> executors,
                                                                               const SmolVlaScheduleOptions& options) {
  if (executors.empty() || !executors[0]) return InvalidArgument("scheduled SmolVLA: no executors");
  if (options.vision_every < 1) return InvalidArgument("vision_every must be >= 1, got " + std::to_string(options.vision_every));
  if (options.max_vision_age < 1) return InvalidArgument("max_vision_age must be >= 1");
  std::unique_ptr<ScheduledSmolVlaPolicy> p(new ScheduledSmolVlaPolicy());
  EMBODY_TRY(RunOn(*executors[0], [&]() -> Status {
    EMBODY_ASSIGN_OR_RETURN(p->model_, load());
    return Status::Ok();
  }));
  if (!p->model_) return InvalidArgument("scheduled SmolVLA: the loader gave no model");
  p->default_task_ = std::move(default_task);
  p->options_ = options;
  const size_t cams = p->model_->config().num_cameras();
  p->frames_.resize(cams);
  for (size_t i = 0; i < cams; ++i) p->latencies_.push_back({"vision." + std::to_string(i), 0});
  p->latencies_.push_back({"llm", 0});
  p->latencies_.push_back({"expert", 0});
  ScheduledSmolVlaPolicy* self = p.get();
  std::vector<BlockTask> graph(3);
  // Priors in the ratio SmolVLA base measures on a CPU (vision per camera ~3x the LLM prefix, the
  // expert ~ the prefix); the first run replaces them.
  graph[kVision].name = "vision";
  graph[kVision].run = [self](const ExecContext& c) {
    self->model_->set_threads(Block::kVision, c.threads);
    return self->model_->EncodeImages(self->frames_);
  };
  graph[kVision].prior_ms = 3.0 * static_cast<double>(cams);
  graph[kLlm].name = "llm";
  graph[kLlm].deps = {kVision};
  graph[kLlm].run = [self](const ExecContext& c) {
    self->model_->set_threads(Block::kLlm, c.threads);
    return self->model_->Prefill(self->task_, self->state_);
  };
  graph[kExpert].name = "expert";
  graph[kExpert].deps = {kLlm};
  graph[kExpert].run = [self](const ExecContext& c) {
    self->model_->set_threads(Block::kExpert, c.threads);
    return self->model_->Denoise(nullptr, self->chunk_, nullptr);
  };
  for (BlockTask& t : graph) t.pin = 0;  // built there
  EMBODY_ASSIGN_OR_RETURN(p->scheduler_, BlockScheduler::Create(std::move(executors), std::move(graph)));
  return p;
}

ScheduledSmolVlaPolicy::~ScheduledSmolVlaPolicy() {
  if (model_ && scheduler_)
    (void)RunOn(*scheduler_->executors()[0], [&] {
      model_.reset();
      return Status::Ok();
    });
}

void ScheduledSmolVlaPolicy::Reset() {
  have_tokens_ = false;
  age_ = 0;
  budget_ms_ = 0;
}

bool ScheduledSmolVlaPolicy::WantVision() const {
  if (!have_tokens_) return true;
  if (options_.adaptive) {
    if (age_ + 1 >= options_.max_vision_age) return true;
    // the full path's estimate against the budget (no budget known: refresh)
    const double full = scheduler_->Plan().planned_ms;
    return budget_ms_ <= 0 || full <= budget_ms_;
  }
  return age_ + 1 >= options_.vision_every;
}

Status ScheduledSmolVlaPolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  if (obs.images.size() != frames_.size())
    return InvalidArgument("SmolVLA expects " + std::to_string(frames_.size()) + " camera images, got " +
                           std::to_string(obs.images.size()));
  for (size_t i = 0; i < frames_.size(); ++i) frames_[i] = {obs.images[i].pixels, obs.images[i].height, obs.images[i].width};
  task_.assign(obs.task.empty() ? std::string_view(default_task_) : obs.task);
  state_ = obs.state;
  chunk_ = chunk;
  const bool vision = WantVision();
  auto run = scheduler_->Run({!vision, false, false});
  if (!run.ok()) {
    have_tokens_ = false;  // a failed EncodeImages may have left partial tokens
    return run.status().WithContext("SmolVLA chunk");
  }
  report_ = std::move(*run);
  reused_ = !vision;
  ++inferences_;
  if (vision) {
    have_tokens_ = true;
    age_ = 0;
    ++vision_runs_;
  } else {
    ++age_;
  }
  const models::smolvla::SmolVlaTimes& t = model_->last_times();
  for (size_t i = 0; i < frames_.size(); ++i) latencies_[i].ms = vision ? t.vision_ms[i] : 0.0;
  latencies_[latencies_.size() - 2].ms = report_.blocks[kLlm].ms;
  latencies_.back().ms = report_.blocks[kExpert].ms;
  return Status::Ok();
}

}  // namespace embody::runtime::sched
