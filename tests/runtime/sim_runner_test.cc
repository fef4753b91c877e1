// The oracle and the simulated-time runner on the tea-bag task.
#include <gtest/gtest.h>

#include <stdexcept>

#include "runtime/async/sim/oracle_policy.h"
#include "runtime/async/sim/sim_runner.h"

namespace embody::runtime::simrun {
namespace {

class SimRunner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = sim::TeaBagTask::Load();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    task_ = std::move(*t).release();
  }
  static void TearDownTestSuite() { delete task_; }

  SimEpisodeReport Run(Mode mode, const char* latency, double threshold = 0.5, int smooth = 0) {
    sim::Episode episode(*task_);
    OraclePolicy oracle(*task_, episode, 50, 0);
    SimRunOptions o;
    o.mode = mode;
    o.latency = *ParseLatencyProfile(latency);
    o.threshold = threshold;
    o.merge.smooth_ticks = smooth;
    auto r = RunPolicyEpisode(episode, oracle, {0, sim::kValidationCluster, false}, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SimEpisodeReport{};
  }

  static sim::TeaBagTask* task_;
};
sim::TeaBagTask* SimRunner::task_ = nullptr;

TEST_F(SimRunner, SyncOracleWithoutLatencySucceedsLikeTheExpert) {
  const SimEpisodeReport r = Run(Mode::kSync, "0");
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.idle_ticks + r.startup_ticks, 0);
  EXPECT_GT(r.time_to_success, 3.0);
  EXPECT_LT(r.time_to_success, 8.0);
}

TEST_F(SimRunner, AsyncHidesLatencyBelowTheThresholdBudget) {
  // 200 ms = 5 ticks of delay; threshold 0.5 of 50 leaves 25 queued actions: never idle
  const SimEpisodeReport r = Run(Mode::kAsync, "200");
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.startup_ticks, 5);  // the first chunk: nothing to hide it behind
  EXPECT_EQ(r.idle_ticks, 0);
  EXPECT_EQ(r.late_inferences, 0);
  EXPECT_TRUE(r.warning.empty()) << r.warning;
  const SimEpisodeReport sync = Run(Mode::kSync, "200");
  EXPECT_GT(sync.idle_ticks, 0);
  EXPECT_GT(sync.time_to_success, r.time_to_success);
}

// LeRobot's select_action runs n_action_steps of each chunk, then predicts again; async ignores it.
class ShortStepOracle : public OraclePolicy {
 public:
  using OraclePolicy::OraclePolicy;
  int n_action_steps() const override { return 10; }
};

TEST_F(SimRunner, SyncRunsNActionStepsOfEachChunk) {
  sim::Episode episode(*task_), full_episode(*task_);
  ShortStepOracle oracle(*task_, episode, 50, 0);
  OraclePolicy full(*task_, full_episode, 50, 0);
  SimRunOptions o;
  o.mode = Mode::kSync;
  o.latency = *ParseLatencyProfile("0");
  auto r = RunPolicyEpisode(episode, oracle, {0, sim::kValidationCluster, false}, o);
  auto r_full = RunPolicyEpisode(full_episode, full, {0, sim::kValidationCluster, false}, o);
  ASSERT_TRUE(r.ok() && r_full.ok());
  EXPECT_TRUE(r->success);
  EXPECT_GE(r->inferences, (r->ticks + 9) / 10);  // one per 10 ticks
  EXPECT_LE(r_full->inferences, (r_full->ticks + 49) / 50 + 1);
}

TEST_F(SimRunner, TemporalEnsemblingInfersEveryTickAndStillSucceeds) {
  sim::Episode episode(*task_);
  OraclePolicy oracle(*task_, episode, 50, 0);
  SimRunOptions o;
  o.mode = Mode::kSync;
  o.latency = *ParseLatencyProfile("0");
  o.temporal_ensemble_coeff = 0.01;
  auto r = RunPolicyEpisode(episode, oracle, {0, sim::kValidationCluster, false}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->inferences, r->ticks);  // one chunk per executed action
  EXPECT_GT(r->max_bag_lift, 0.05);    // the bag was carried
  o.mode = Mode::kAsync;
  EXPECT_EQ(RunPolicyEpisode(episode, oracle, {0, sim::kValidationCluster, false}, o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(SimRunner, IsDeterministic) {
  const SimEpisodeReport a = Run(Mode::kAsync, "500", 0.2, 3), b = Run(Mode::kAsync, "500", 0.2, 3);
  EXPECT_EQ(a.ticks, b.ticks);
  EXPECT_EQ(a.idle_ticks, b.idle_ticks);
  EXPECT_EQ(a.time_to_success, b.time_to_success);
  EXPECT_EQ(a.max_seam_jump, b.max_seam_jump);
}

TEST_F(SimRunner, WarnsWhenInferenceOutlastsTheBudget) {
  // 1 s = 29 ticks of delay > 10 queued actions at threshold 0.2
  const SimEpisodeReport r = Run(Mode::kAsync, "1000", 0.2);
  EXPECT_GT(r.late_inferences, 0);
  EXPECT_GT(r.idle_ticks, 0);
  EXPECT_FALSE(r.warning.empty());
}

// A policy that throws on its third chunk: the robot holds and the run reports it.
class ThrowingPolicy : public OraclePolicy {
 public:
  using OraclePolicy::OraclePolicy;
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override {
    if (++calls_ == 3) throw std::runtime_error("boom");
    return OraclePolicy::PredictChunk(obs, chunk);
  }
  int calls_ = 0;
};

TEST_F(SimRunner, PolicyFailureHoldsPositionAndIsReported) {
  sim::Episode episode(*task_);
  ThrowingPolicy policy(*task_, episode, 20, 0);
  SimRunOptions o;
  o.latency = *ParseLatencyProfile("0");
  auto r = RunPolicyEpisode(episode, policy, {0, sim::kValidationCluster, false}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->policy_error.find("boom"), std::string::npos);
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->inferences, 2);
  EXPECT_EQ(r->chunk_switches, 2);
  EXPECT_GT(r->idle_ticks, r->ticks / 2);  // held from the failure to the time limit
}

}  // namespace
}  // namespace embody::runtime::simrun
