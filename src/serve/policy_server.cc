#include "serve/policy_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

#include "policy_service.grpc.pb.h"
#include "runtime/sched/executor.h"
#include "serve/grpc_status.h"

namespace embody::serve {

namespace {

using Clock = std::chrono::steady_clock;
namespace pb = ::embody::serve::v1;

// Checks a wire observation against the description and points a PolicyObservation into it
// (valid while `in` lives).
Status Unpack(const pb::Observation& in, const PolicyDescription& d, runtime::PolicyObservation* out,
              runtime::SimPrivileged* sim) {
  if (static_cast<size_t>(in.images_size()) != d.cameras.size())
    return InvalidArgument("the policy expects " + std::to_string(d.cameras.size()) + " camera image(s), got " +
                           std::to_string(in.images_size()));
  out->images.clear();
  for (int i = 0; i < in.images_size(); ++i) {
    const pb::Image& im = in.images(i);
    const PolicyDescription::Camera& cam = d.cameras[static_cast<size_t>(i)];
    if (im.height() <= 0 || im.width() <= 0 ||
        im.rgb().size() != static_cast<size_t>(im.height()) * static_cast<size_t>(im.width()) * 3)
      return InvalidArgument(cam.key + ": image " + std::to_string(im.height()) + "x" + std::to_string(im.width()) +
                             " has " + std::to_string(im.rgb().size()) + " bytes, expected height*width*3");
    out->images.push_back({reinterpret_cast<const uint8_t*>(im.rgb().data()), im.height(), im.width()});
  }
  if (in.state_size() != d.state_dim)
    return InvalidArgument("observation.state has " + std::to_string(in.state_size()) + " values, the policy expects " +
                           std::to_string(d.state_dim));
  out->state = in.state_size() ? in.state().data() : nullptr;
  out->task = in.task();
  out->timestep = in.timestep();
  out->sim = nullptr;
  if (d.needs_sim_state) {
    if (!in.has_sim() || in.sim().physics_size() == 0)
      return FailedPrecondition("this policy reads the simulation's privileged state: the client must send it "
                                "(embody run --sim)");
    sim->seed = in.sim().seed();
    sim->cluster = in.sim().cluster();
    sim->recovery = in.sim().recovery();
    sim->physics.assign(in.sim().physics().begin(), in.sim().physics().end());
    out->sim = sim;
  }
  return Status::Ok();
}

// One Predict or Reset: the handler hands it to the policy thread and waits until it is done or
// the client's deadline passes; then the policy thread skips it if it has not started. The job
// owns copies of request and reply, since the handler may return first.
struct Job {
  pb::Observation request;
  pb::ActionChunk reply;
  bool reset = false;
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, done = false, abandoned = false;
  grpc::Status status;
};

class Service final : public pb::PolicyService::Service {
 public:
  Service(runtime::sched::Executor& thread, runtime::Policy& policy, PolicyDescription d)
      : thread_(thread), policy_(policy), d_(std::move(d)) {}

  grpc::Status Describe(grpc::ServerContext*, const pb::DescribeRequest*, pb::PolicyInfo* info) override {
    info->set_name(std::string(policy_.name()));
    info->set_chunk_size(policy_.chunk_size());
    info->set_action_dim(policy_.action_dim());
    info->set_state_dim(d_.state_dim);
    for (const auto& c : d_.cameras) {
      pb::CameraSpec* s = info->add_cameras();
      s->set_key(c.key);
      s->set_height(c.height);
      s->set_width(c.width);
    }
    info->set_needs_sim_state(d_.needs_sim_state);
    info->set_server("embody");
    return grpc::Status::OK;
  }

  grpc::Status Reset(grpc::ServerContext* ctx, const pb::ResetRequest*, pb::ResetReply*) override {
    auto job = std::make_shared<Job>();
    job->reset = true;
    return Run(ctx, job);
  }

  grpc::Status Predict(grpc::ServerContext* ctx, const pb::Observation* in, pb::ActionChunk* out) override {
    auto job = std::make_shared<Job>();
    job->request = *in;
    grpc::Status s = Run(ctx, job);
    if (s.ok()) out->Swap(&job->reply);
    return s;
  }

  ServerStats stats() const {
    std::lock_guard<std::mutex> g(stats_mu_);
    return stats_;
  }

 private:
  grpc::Status Run(grpc::ServerContext* ctx, const std::shared_ptr<Job>& job) {
    thread_.Submit(0, [this, job] { Execute(*job); });
    std::unique_lock<std::mutex> lock(job->mu);
    // wait for the result, the client's deadline or its cancellation (checked every 50 ms)
    while (!job->done) {
      if (ctx->IsCancelled() || std::chrono::system_clock::now() >= ctx->deadline()) {
        if (!job->started) {
          job->abandoned = true;
          std::lock_guard<std::mutex> g(stats_mu_);
          ++stats_.refused_late;
        }
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the policy did not answer before the client's deadline");
      }
      job->cv.wait_for(lock, std::chrono::milliseconds(50));
    }
    return job->status;
  }

  // On the policy thread.
  void Execute(Job& job) {
    {
      std::lock_guard<std::mutex> lock(job.mu);
      if (job.abandoned) return;
      job.started = true;
    }
    grpc::Status result;
    if (job.reset) {
      try {
        policy_.Reset();
      } catch (const std::exception& e) {
        result = grpc::Status(grpc::StatusCode::INTERNAL, std::string("policy Reset threw: ") + e.what());
      }
    } else {
      result = Predict(job.request, &job.reply);
    }
    std::lock_guard<std::mutex> lock(job.mu);
    job.status = result;
    job.done = true;
    job.cv.notify_all();
  }

  grpc::Status Predict(const pb::Observation& in, pb::ActionChunk* out) {
    const Clock::time_point t0 = Clock::now();
    Status s = Unpack(in, d_, &obs_, &sim_);
    if (s.ok()) {
      chunk_.resize(static_cast<size_t>(policy_.chunk_size()) * static_cast<size_t>(policy_.action_dim()));
      try {
        policy_.SetLatencyBudget(in.latency_budget_ms());
        s = policy_.PredictChunk(obs_, chunk_.data());
      } catch (const std::exception& e) {
        s = Internal(std::string("policy threw: ") + e.what());
      } catch (...) {
        s = Internal("policy threw a non-standard exception");
      }
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    {
      std::lock_guard<std::mutex> g(stats_mu_);
      stats_.last_ms = ms;
      ++(s.ok() ? stats_.predictions : stats_.errors);
    }
    if (!s.ok()) return ToGrpc(s);
    out->set_first_timestep(in.timestep());
    out->set_chunk_size(policy_.chunk_size());
    out->set_action_dim(policy_.action_dim());
    out->mutable_actions()->Assign(chunk_.begin(), chunk_.end());
    for (const runtime::BlockLatency& b : policy_.last_latencies()) {
      pb::BlockLatency* l = out->add_blocks();
      l->set_name(b.name);
      l->set_ms(b.ms);
    }
    out->set_server_ms(policy_.last_total_ms());
    return grpc::Status::OK;
  }

  runtime::sched::Executor& thread_;
  runtime::Policy& policy_;
  const PolicyDescription d_;
  // used on the policy thread only
  runtime::PolicyObservation obs_;
  runtime::SimPrivileged sim_;
  std::vector<float> chunk_;
  mutable std::mutex stats_mu_;
  ServerStats stats_;
};

}  // namespace

struct PolicyServer::Impl {
  // Declared first, destroyed last: the policy thread, then the policy (destroyed on it).
  std::unique_ptr<runtime::sched::CpuExecutor> thread;
  std::unique_ptr<runtime::Policy> policy;
  PolicyDescription description;
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::mutex mu;
  bool shut = false;
};

PolicyServer::PolicyServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PolicyServer::~PolicyServer() {
  Shutdown();
  impl_->server.reset();
  impl_->service.reset();
  if (impl_->policy) (void)runtime::sched::RunOn(*impl_->thread, [&] {
    impl_->policy.reset();
    return Status::Ok();
  });
}

Result<std::unique_ptr<PolicyServer>> PolicyServer::Start(const PolicyFactory& make, const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  runtime::sched::CpuExecutorOptions eo;
  eo.name = "policy";
  eo.threads = options.threads;
  impl->thread = std::make_unique<runtime::sched::CpuExecutor>(eo);
  EMBODY_TRY(runtime::sched::RunOn(*impl->thread, [&]() -> Status {
    EMBODY_ASSIGN_OR_RETURN(impl->policy, make(&impl->description));
    return impl->policy ? Status::Ok() : InvalidArgument("embody serve: the policy factory gave no policy");
  }));
  impl->service = std::make_unique<Service>(*impl->thread, *impl->policy, impl->description);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0)
    return IoError("embody serve: cannot listen on '" + options.listen + "' (address in use, or not host:port?)");
  return std::unique_ptr<PolicyServer>(new PolicyServer(std::move(impl)));
}

int PolicyServer::port() const { return impl_->port; }
std::string_view PolicyServer::policy_name() const { return impl_->policy->name(); }
int PolicyServer::chunk_size() const { return impl_->policy->chunk_size(); }
int PolicyServer::action_dim() const { return impl_->policy->action_dim(); }
const PolicyDescription& PolicyServer::description() const { return impl_->description; }

void PolicyServer::Shutdown(double grace_ms) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->shut) return;
  impl_->shut = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::microseconds(static_cast<int64_t>(grace_ms * 1000)));
}

void PolicyServer::Wait() { impl_->server->Wait(); }

ServerStats PolicyServer::stats() const { return impl_->service->stats(); }

}  // namespace embody::serve
