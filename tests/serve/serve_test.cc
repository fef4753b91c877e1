// The remote policy over gRPC against an in-process server on a free port (loopback only):
// chunks and timesteps as a local policy gives them, errors and exceptions of the served policy,
// a dead server, a late server (client deadline), and the inference thread of a robot loop when
// the server dies (the control loop keeps running and holds).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/async/async_inference.h"
#include "serve/policy_server.h"
#include "serve/remote_policy.h"

namespace embody::serve {
namespace {

constexpr int kChunk = 8, kDim = 3, kState = 2;

// chunk[i][d] = timestep + i + 0.1 d + state[0]; can fail, throw or block on request.
class FakePolicy : public runtime::Policy {
 public:
  std::string_view name() const override { return "fake"; }
  int chunk_size() const override { return kChunk; }
  int action_dim() const override { return kDim; }
  Status PredictChunk(const runtime::PolicyObservation& obs, float* chunk) override {
    ++calls;
    if (mode == 1) return InvalidArgument("fake: the gripper camera is dark");
    if (mode == 2) throw std::runtime_error("fake: out of cheese");
    if (mode == 3) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return released; });
    }
    last_task = std::string(obs.task);
    last_images = obs.images.size() ? obs.images[0].pixels[5] : 0;
    for (int i = 0; i < kChunk; ++i)
      for (int d = 0; d < kDim; ++d)
        chunk[i * kDim + d] = static_cast<float>(obs.timestep + i) + 0.1f * static_cast<float>(d) + obs.state[0];
    latencies_[0].ms = 1.5;
    return Status::Ok();
  }
  const std::vector<runtime::BlockLatency>& last_latencies() const override { return latencies_; }
  void Reset() override { ++resets; }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
    cv.notify_all();
  }

  std::atomic<int> mode{0}, calls{0}, resets{0};
  std::string last_task;
  uint8_t last_images = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;

 private:
  std::vector<runtime::BlockLatency> latencies_{{"fake", 0}};
};

PolicyDescription Desc() {
  PolicyDescription d;
  d.cameras = {{"observation.images.top", 4, 6}};
  d.state_dim = kState;
  return d;
}

// The server owns its policy (built on its policy thread); the test keeps a pointer to poke it.
Result<std::unique_ptr<PolicyServer>> Serve(FakePolicy** fake) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  return PolicyServer::Start(
      [fake](PolicyDescription* d) -> Result<std::unique_ptr<runtime::Policy>> {
        *d = Desc();
        auto p = std::make_unique<FakePolicy>();
        *fake = p.get();
        return std::unique_ptr<runtime::Policy>(std::move(p));
      },
      o);
}

struct Fixture {
  FakePolicy* policy = nullptr;
  std::unique_ptr<PolicyServer> server;
  std::vector<uint8_t> pixels = std::vector<uint8_t>(4 * 6 * 3, 7);
  std::vector<float> state = {0.5f, -1.0f};
  runtime::PolicyObservation obs;

  Fixture() {
    auto s = Serve(&policy);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) server = std::move(*s);
    obs.images = {{pixels.data(), 4, 6}};
    obs.state = state.data();
    obs.task = "stack the cups";
  }
  std::string target() const { return "grpc://127.0.0.1:" + std::to_string(server->port()); }
};

TEST(RemotePolicy, ChunksAndTimestepsAsALocalPolicy) {
  Fixture f;
  ASSERT_TRUE(f.server);
  auto remote = RemotePolicy::Connect(f.target(), {});
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  RemotePolicy& p = **remote;
  EXPECT_EQ(p.name(), "fake");
  EXPECT_EQ(p.chunk_size(), kChunk);
  EXPECT_EQ(p.action_dim(), kDim);
  ASSERT_EQ(p.description().cameras.size(), 1u);
  EXPECT_EQ(p.description().cameras[0].width, 6);
  EXPECT_EQ(p.description().state_dim, kState);
  std::vector<float> chunk(kChunk * kDim);
  for (int64_t t : {0, 5, 17}) {
    f.obs.timestep = t;
    ASSERT_TRUE(p.PredictChunk(f.obs, chunk.data()).ok());
    for (int i = 0; i < kChunk; ++i)
      for (int d = 0; d < kDim; ++d) EXPECT_FLOAT_EQ(chunk[i * kDim + d], t + i + 0.1f * d + 0.5f);
  }
  EXPECT_EQ(f.policy->last_task, "stack the cups");
  EXPECT_EQ(f.policy->last_images, 7);
  ASSERT_EQ(p.last_latencies().size(), 2u);
  EXPECT_EQ(p.last_latencies()[0].name, "fake");
  EXPECT_DOUBLE_EQ(p.last_latencies()[0].ms, 1.5);
  EXPECT_EQ(p.last_latencies()[1].name, "network");
  EXPECT_GT(p.last_total_ms(), 0);
  p.Reset();
  EXPECT_EQ(f.policy->resets.load(), 1);
  EXPECT_EQ(f.server->stats().predictions, 3);
}

TEST(RemotePolicy, PolicyErrorsAndExceptionsComeBackAndTheServerGoesOn) {
  Fixture f;
  ASSERT_TRUE(f.server);
  auto remote = RemotePolicy::Connect(f.target(), {});
  ASSERT_TRUE(remote.ok());
  std::vector<float> chunk(kChunk * kDim);
  f.policy->mode = 1;
  Status s = (*remote)->PredictChunk(f.obs, chunk.data());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.ToString().find("gripper camera is dark"), std::string::npos) << s.ToString();
  f.policy->mode = 2;
  s = (*remote)->PredictChunk(f.obs, chunk.data());
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.ToString().find("out of cheese"), std::string::npos) << s.ToString();
  f.policy->mode = 0;
  EXPECT_TRUE((*remote)->PredictChunk(f.obs, chunk.data()).ok());
  EXPECT_EQ(f.server->stats().errors, 2);

  // shapes are checked on the server before the policy sees them
  f.obs.images.clear();
  s = (*remote)->PredictChunk(f.obs, chunk.data());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.ToString().find("1 camera image"), std::string::npos) << s.ToString();
}

TEST(RemotePolicy, DeadServerIsAnErrorNamingIt) {
  Fixture f;
  ASSERT_TRUE(f.server);
  RemoteOptions ro;
  ro.deadline_ms = 3000;
  auto remote = RemotePolicy::Connect(f.target(), ro);
  ASSERT_TRUE(remote.ok());
  std::vector<float> chunk(kChunk * kDim);
  ASSERT_TRUE((*remote)->PredictChunk(f.obs, chunk.data()).ok());
  f.server->Shutdown(0);
  f.server.reset();
  const Status s = (*remote)->PredictChunk(f.obs, chunk.data());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.ToString().find("127.0.0.1"), std::string::npos) << s.ToString();
}

TEST(RemotePolicy, NoServerFailsWithinTheConnectTimeout) {
  RemoteOptions ro;
  ro.connect_timeout_ms = 300;
  // a port nothing listens on: bind and close one
  FakePolicy* probe = nullptr;
  auto s = Serve(&probe);
  ASSERT_TRUE(s.ok());
  const int port = (*s)->port();
  (*s)->Shutdown(0);
  s->reset();
  auto remote = RemotePolicy::Connect("grpc://127.0.0.1:" + std::to_string(port), ro);
  ASSERT_FALSE(remote.ok());
  EXPECT_EQ(remote.status().code(), StatusCode::kIoError);
  EXPECT_FALSE(RemotePolicy::Connect("no-port-here", ro).ok());
}

TEST(RemotePolicy, LateServerHitsTheDeadline) {
  Fixture f;
  ASSERT_TRUE(f.server);
  RemoteOptions ro;
  ro.deadline_ms = 300;
  auto remote = RemotePolicy::Connect(f.target(), ro);
  ASSERT_TRUE(remote.ok());
  std::vector<float> chunk(kChunk * kDim);
  f.policy->mode = 3;  // blocks until released
  const Status s = (*remote)->PredictChunk(f.obs, chunk.data());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.ToString().find("DEADLINE_EXCEEDED"), std::string::npos) << s.ToString();
  f.policy->mode = 0;
  f.policy->Release();
  // the server recovers once its policy does
  Status ok;
  for (int i = 0; i < 20 && !(ok = (*remote)->PredictChunk(f.obs, chunk.data())).ok(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(ok.ok()) << ok.ToString();
}

// The robot loop: the control thread pops every tick and never waits; when the server dies the
// inference thread reports it and the queue drains to the held pose.
TEST(RemotePolicy, ServerDeathMakesTheRobotLoopHoldAndReport) {
  Fixture f;
  ASSERT_TRUE(f.server);
  RemoteOptions ro;
  ro.deadline_ms = 2000;
  auto remote = RemotePolicy::Connect(f.target(), ro);
  ASSERT_TRUE(remote.ok());
  runtime::ActionQueue queue(kChunk, kDim);
  runtime::AsyncOptions ao;
  ao.threshold = 0.5;
  std::mutex obs_mu;
  runtime::AsyncInference inference(**remote, queue, [&](runtime::PolicyObservation* o) {
    std::lock_guard<std::mutex> lock(obs_mu);
    o->images = f.obs.images;
    o->state = f.obs.state;
    o->task = f.obs.task;
    return Status::Ok();
  }, ao);
  inference.Start();
  std::vector<float> action(kDim);
  int64_t ts = 0;
  int popped = 0, empty_after_death = 0;
  bool killed = false;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    if (queue.Pop(action.data(), &ts)) {
      ++popped;
    } else if (killed) {
      ++empty_after_death;
    }
    if (!killed && popped >= 3 * kChunk) {
      f.server->Shutdown(0);
      killed = true;
    }
    if (inference.failed() && empty_after_death > 10) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(killed);
  EXPECT_TRUE(inference.failed());
  EXPECT_NE(inference.error().find("policy server"), std::string::npos) << inference.error();
  EXPECT_GT(empty_after_death, 10);  // holding, and the loop kept ticking
  inference.Stop();
}

}  // namespace
}  // namespace embody::serve
