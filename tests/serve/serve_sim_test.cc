// The oracle served over gRPC and run on the tea-bag task in simulated time: the remote path
// succeeds like the local one, and a server that dies mid-episode makes the robot hold and the
// runner report it.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/async/sim/oracle_policy.h"
#include "runtime/async/sim/privileged.h"
#include "runtime/async/sim/sim_runner.h"
#include "serve/policy_server.h"
#include "serve/remote_policy.h"

namespace embody::serve {
namespace {

using runtime::simrun::Mode;

class ServedOracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = sim::TeaBagTask::Load();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    task_ = std::move(*t).release();
  }
  static void TearDownTestSuite() { delete task_; }

  void SetUp() override {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    auto s = PolicyServer::Start(
        [](PolicyDescription* d) -> Result<std::unique_ptr<runtime::Policy>> {
          d->state_dim = sim::kNumJoints;
          d->needs_sim_state = true;
          return std::unique_ptr<runtime::Policy>(std::make_unique<runtime::simrun::MirroredOraclePolicy>(*task_, 50, 0));
        },
        o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    auto r = RemotePolicy::Connect("127.0.0.1:" + std::to_string(server_->port()), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    remote_ = std::move(*r);
  }

  static sim::TeaBagTask* task_;
  std::unique_ptr<PolicyServer> server_;
  std::unique_ptr<RemotePolicy> remote_;
};
sim::TeaBagTask* ServedOracle::task_ = nullptr;

TEST_F(ServedOracle, SucceedsLikeTheLocalOracle) {
  ASSERT_TRUE(remote_->description().needs_sim_state);
  runtime::simrun::SimRunOptions o;
  o.mode = Mode::kAsync;
  o.latency = *runtime::ParseLatencyProfile("200");
  runtime::SimPrivileged state;
  sim::Episode episode(*task_);
  auto observer = [&](const sim::Episode& e, runtime::PolicyObservation* obs) {
    runtime::simrun::CaptureSimState(e, &state);
    obs->sim = &state;
    return Status::Ok();
  };
  const sim::EpisodeSpec spec{0, sim::kValidationCluster, false};
  auto remote = runtime::simrun::RunPolicyEpisode(episode, *remote_, spec, o, observer);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_TRUE(remote->policy_error.empty()) << remote->policy_error;
  EXPECT_TRUE(remote->success);
  EXPECT_EQ(remote->idle_ticks, 0);

  runtime::simrun::OraclePolicy local(*task_, episode, 50, 0);
  auto ref = runtime::simrun::RunPolicyEpisode(episode, local, spec, o);
  ASSERT_TRUE(ref.ok());
  // the mirror recomputes derived quantities (mj_forward) that the local copy takes as they are,
  // so the two runs may differ by a few ticks, not more
  EXPECT_NEAR(remote->time_to_success, ref->time_to_success, 0.5);

  // without the privileged state the server refuses, and says why
  runtime::PolicyObservation bare;
  std::vector<float> chunk(50 * sim::kNumJoints), st(sim::kNumJoints, 0.0f);
  bare.state = st.data();
  const Status s = remote_->PredictChunk(bare, chunk.data());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.ToString().find("privileged"), std::string::npos) << s.ToString();
}

TEST_F(ServedOracle, ServerDeathMidEpisodeHoldsAndReports) {
  runtime::simrun::SimRunOptions o;
  o.mode = Mode::kAsync;
  o.latency = *runtime::ParseLatencyProfile("100");
  runtime::SimPrivileged state;
  sim::Episode episode(*task_);
  int observations = 0;
  auto observer = [&](const sim::Episode& e, runtime::PolicyObservation* obs) {
    if (++observations == 4) server_->Shutdown(0);  // the server goes away before the 4th chunk
    runtime::simrun::CaptureSimState(e, &state);
    obs->sim = &state;
    return Status::Ok();
  };
  auto r = runtime::simrun::RunPolicyEpisode(episode, *remote_, {1, sim::kValidationCluster, false}, o, observer);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->inferences, 3);
  EXPECT_NE(r->policy_error.find("policy server"), std::string::npos) << r->policy_error;
  EXPECT_GT(r->idle_ticks, 100);  // held for the rest of the episode
}

}  // namespace
}  // namespace embody::serve
