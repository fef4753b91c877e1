#include "runtime/sched/thread_bound_policy.h"

namespace embody::runtime::sched {

Result<std::unique_ptr<ThreadBoundPolicy>> ThreadBoundPolicy::Create(const Factory& make, int threads) {
  std::unique_ptr<ThreadBoundPolicy> p(new ThreadBoundPolicy());
  CpuExecutorOptions o;
  o.name = "policy";
  o.threads = threads;
  p->thread_ = std::make_unique<CpuExecutor>(o);
  EMBODY_TRY(RunOn(*p->thread_, [&]() -> Status {
    EMBODY_ASSIGN_OR_RETURN(p->inner_, make());
    return p->inner_ ? Status::Ok() : InvalidArgument("thread-bound policy: the factory gave no policy");
  }));
  return p;
}

ThreadBoundPolicy::~ThreadBoundPolicy() {
  if (inner_)
    (void)RunOn(*thread_, [&] {
      inner_.reset();
      return Status::Ok();
    });
}

Status ThreadBoundPolicy::PredictChunk(const PolicyObservation& obs, float* chunk) {
  return RunOn(*thread_, [&] {
    inner_->SetLatencyBudget(budget_ms_);
    return inner_->PredictChunk(obs, chunk);
  });
}

void ThreadBoundPolicy::Reset() {
  (void)RunOn(*thread_, [&] {
    inner_->Reset();
    return Status::Ok();
  });
}

}  // namespace embody::runtime::sched
