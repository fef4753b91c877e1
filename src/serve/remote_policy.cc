#include "serve/remote_policy.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "policy_service.grpc.pb.h"
#include "serve/grpc_status.h"

namespace embody::serve {

namespace pb = ::embody::serve::v1;

struct RemotePolicy::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::PolicyService::Stub> stub;
  pb::Observation request;  // reused: its image strings keep their capacity
  pb::ActionChunk reply;
};

namespace {
std::chrono::system_clock::time_point After(double ms) {
  return std::chrono::system_clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
}
}  // namespace

RemotePolicy::RemotePolicy() : impl_(std::make_unique<Impl>()) {}
RemotePolicy::~RemotePolicy() = default;

Result<std::unique_ptr<RemotePolicy>> RemotePolicy::Connect(const std::string& target_in, const RemoteOptions& options) {
  std::string target = target_in;
  if (target.rfind("grpc://", 0) == 0) target = target.substr(7);
  if (target.empty() || target.find(':') == std::string::npos)
    return InvalidArgument("remote policy '" + target_in + "': expected grpc://host:port");
  if (!(options.deadline_ms > 0) || !(options.connect_timeout_ms > 0))
    return InvalidArgument("remote policy: timeouts must be positive");
  std::unique_ptr<RemotePolicy> p(new RemotePolicy());
  p->target_ = target;
  p->options_ = options;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  p->impl_->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  p->impl_->stub = pb::PolicyService::NewStub(p->impl_->channel);

  grpc::ClientContext ctx;
  ctx.set_deadline(After(options.connect_timeout_ms));
  ctx.set_wait_for_ready(true);  // wait for the server to come up, up to the connect timeout
  pb::PolicyInfo info;
  EMBODY_TRY(FromGrpc(p->impl_->stub->Describe(&ctx, pb::DescribeRequest(), &info), "policy server at " + target));
  if (info.chunk_size() <= 0 || info.action_dim() <= 0)
    return DataLoss("policy server at " + target + " describes chunk_size " + std::to_string(info.chunk_size()) +
                    ", action_dim " + std::to_string(info.action_dim()));
  p->name_ = info.name();
  p->chunk_size_ = info.chunk_size();
  p->action_dim_ = info.action_dim();
  p->description_.state_dim = info.state_dim();
  p->description_.needs_sim_state = info.needs_sim_state();
  for (const pb::CameraSpec& c : info.cameras()) p->description_.cameras.push_back({c.key(), c.height(), c.width()});
  return p;
}

void RemotePolicy::Reset() {
  grpc::ClientContext ctx;
  ctx.set_deadline(After(options_.deadline_ms));
  pb::ResetReply reply;
  reset_error_ = FromGrpc(impl_->stub->Reset(&ctx, pb::ResetRequest(), &reply), "Reset at policy server " + target_);
}

Status RemotePolicy::PredictChunk(const runtime::PolicyObservation& obs, float* chunk) {
  if (!reset_error_.ok()) {
    const Status s = reset_error_;
    reset_error_ = Status::Ok();
    return s;
  }
  pb::Observation& req = impl_->request;
  req.set_timestep(obs.timestep);
  req.set_task(std::string(obs.task));
  req.set_latency_budget_ms(budget_ms_);
  // images: resize the repeated field in place so the byte buffers are reused
  while (req.images_size() > static_cast<int>(obs.images.size())) req.mutable_images()->RemoveLast();
  for (size_t i = 0; i < obs.images.size(); ++i) {
    const runtime::PolicyImage& im = obs.images[i];
    pb::Image* out = static_cast<int>(i) < req.images_size() ? req.mutable_images(static_cast<int>(i)) : req.add_images();
    out->set_height(im.height);
    out->set_width(im.width);
    out->mutable_rgb()->assign(reinterpret_cast<const char*>(im.pixels),
                               static_cast<size_t>(im.height) * static_cast<size_t>(im.width) * 3);
  }
  req.clear_state();
  if (obs.state) req.mutable_state()->Add(obs.state, obs.state + description_.state_dim);
  if (obs.sim) {
    pb::SimState* s = req.mutable_sim();
    s->set_seed(obs.sim->seed);
    s->set_cluster(obs.sim->cluster);
    s->set_recovery(obs.sim->recovery);
    s->mutable_physics()->Assign(obs.sim->physics.begin(), obs.sim->physics.end());
  } else {
    req.clear_sim();
  }

  grpc::ClientContext ctx;
  ctx.set_deadline(After(options_.deadline_ms));
  const auto t0 = std::chrono::steady_clock::now();
  pb::ActionChunk& reply = impl_->reply;
  reply.Clear();
  EMBODY_TRY(FromGrpc(impl_->stub->Predict(&ctx, req, &reply), "Predict at policy server " + target_));
  round_trip_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const int64_t n = int64_t{chunk_size_} * action_dim_;
  if (reply.chunk_size() != chunk_size_ || reply.action_dim() != action_dim_ || reply.actions_size() != n ||
      reply.first_timestep() != obs.timestep)
    return DataLoss("policy server " + target_ + " sent a chunk of " + std::to_string(reply.actions_size()) +
                    " values (" + std::to_string(reply.chunk_size()) + "x" + std::to_string(reply.action_dim()) +
                    ", timestep " + std::to_string(reply.first_timestep()) + "), expected " + std::to_string(chunk_size_) +
                    "x" + std::to_string(action_dim_) + " for timestep " + std::to_string(obs.timestep));
  std::copy(reply.actions().begin(), reply.actions().end(), chunk);
  latencies_.resize(static_cast<size_t>(reply.blocks_size()) + 1);
  for (int i = 0; i < reply.blocks_size(); ++i) {
    latencies_[static_cast<size_t>(i)].name = reply.blocks(i).name();
    latencies_[static_cast<size_t>(i)].ms = reply.blocks(i).ms();
  }
  latencies_.back().name = "network";
  latencies_.back().ms = std::max(0.0, round_trip_ms_ - reply.server_ms());
  return Status::Ok();
}

}  // namespace embody::serve
