// ACT and SmolVLA as block graphs on the scheduler give the models' own chunks: ACT with its
// cameras spread over two executors (backbone replicas), SmolVLA with the vision block reused.
// The models are built on their executors (ops run where they were built, executor.h).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "runtime/sched/scheduled_act_policy.h"
#include "runtime/sched/policy_loader.h"
#include "runtime/sched/scheduled_smolvla_policy.h"
#include "support/golden_checkpoint.h"

namespace embody::runtime::sched {
namespace {

std::vector<uint8_t> Pattern(int h, int w, int seed) {
  std::vector<uint8_t> v(static_cast<size_t>(h) * w * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>((i * 7 + static_cast<size_t>(seed) * 31) % 251);
  return v;
}

TEST(ScheduledActPolicy, CamerasOnTwoExecutorsGiveThePredictChunk) {
  auto dir = testing::MaterializeGoldenCase("act", "three_cams");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  models::act::ActOptions opt;
  opt.threads = 1;
  auto reference = models::act::ActModel::Load(*dir, opt);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  const auto& cfg = (*reference)->config();
  ASSERT_EQ(cfg.num_cameras(), 3u);
  std::vector<std::vector<uint8_t>> pixels;
  PolicyObservation obs;
  models::act::ActObservation ref_obs;
  for (size_t c = 0; c < cfg.num_cameras(); ++c) {
    const int h = static_cast<int>(cfg.camera(c).shape[1]), w = static_cast<int>(cfg.camera(c).shape[2]);
    pixels.push_back(Pattern(h, w, static_cast<int>(c)));
    obs.images.push_back({pixels.back().data(), h, w});
    ref_obs.images.push_back({pixels.back().data(), h, w});
  }
  std::vector<float> state(static_cast<size_t>(cfg.state_dim()), 0.5f);
  obs.state = ref_obs.state = state.data();

  CpuExecutor a({"a", 1, {}}), b({"b", 1, {}});
  auto policy = ScheduledActPolicy::Create([&] { return models::act::ActModel::Load(*dir, opt); }, {&a, &b});
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_TRUE((*policy)->replica_error().empty()) << (*policy)->replica_error();
  EXPECT_EQ((*policy)->model().backbone_replicas(), 2);
  std::vector<float> chunk(static_cast<size_t>((*policy)->chunk_size() * (*policy)->action_dim())), expected(chunk.size());
  ASSERT_TRUE((*reference)->Predict(ref_obs, expected.data(), nullptr).ok());
  for (int run = 0; run < 2; ++run) {  // the second run places blocks from measured latencies
    ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
    for (size_t i = 0; i < chunk.size(); ++i) ASSERT_NEAR(chunk[i], expected[i], 1e-5f) << "run " << run << " i " << i;
  }
  const RunReport& r = (*policy)->last_report();
  ASSERT_EQ(r.blocks.size(), 4u);
  EXPECT_EQ(r.blocks.back().name, "transformer");
  bool used_both = false;
  for (int c = 1; c < 3; ++c) used_both = used_both || r.blocks[c].executor != r.blocks[0].executor;
  EXPECT_TRUE(used_both) << DescribeRun(r, (*policy)->scheduler().executors());
  EXPECT_GT((*policy)->last_total_ms(), 0);

  obs.images[1].width = 17;  // a bad image fails with its camera's name, and the policy recovers
  auto bad = (*policy)->PredictChunk(obs, chunk.data());
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.ToString().find("gripper"), std::string::npos) << bad.ToString();
  obs.images[1].width = static_cast<int>(cfg.camera(1).shape[2]);
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_NEAR(chunk[0], expected[0], 1e-5f);
}

// ActModel::Predict() from a thread other than the one that built the model crashes in oneDNN's
// first convolution (per-thread scratchpad); the loader's policies may be called from any thread.
TEST(LoadCheckpointPolicy, PlainAndScheduledPoliciesRunFromAnyThread) {
  auto dir = testing::MaterializeGoldenCase("act", "three_cams");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  models::act::ActOptions opt;
  opt.threads = 1;
  auto reference = models::act::ActModel::Load(*dir, opt);
  ASSERT_TRUE(reference.ok());
  const auto& cfg = (*reference)->config();
  std::vector<std::vector<uint8_t>> pixels;
  PolicyObservation obs;
  models::act::ActObservation ref_obs;
  for (size_t c = 0; c < cfg.num_cameras(); ++c) {
    pixels.push_back(Pattern(240, 320, static_cast<int>(c)));
    obs.images.push_back({pixels.back().data(), 240, 320});
    ref_obs.images.push_back({pixels.back().data(), 240, 320});
  }
  std::vector<float> state(6, 0.25f);
  obs.state = ref_obs.state = state.data();
  std::vector<float> expected(static_cast<size_t>(cfg.chunk_size * cfg.action_dim()));
  ASSERT_TRUE((*reference)->Predict(ref_obs, expected.data(), nullptr).ok());
  for (const char* executors : {"", "1x1"}) {
    PolicyLoadOptions lo;
    lo.threads = 1;
    lo.executors = executors;
    auto loaded = LoadCheckpointPolicy(*dir, lo);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->type, "act");
    ASSERT_EQ(loaded->cameras.size(), 3u);
    EXPECT_EQ(loaded->cameras[1].width, 320);
    std::vector<float> chunk(expected.size());
    Status s;
    std::thread other([&] { s = loaded->policy->PredictChunk(obs, chunk.data()); });
    other.join();
    ASSERT_TRUE(s.ok()) << executors << ": " << s.ToString();
    for (size_t i = 0; i < chunk.size(); ++i) ASSERT_NEAR(chunk[i], expected[i], 1e-5f) << executors;
  }
}

TEST(ScheduledSmolVlaPolicy, ReusesImageTokensWithTheCurrentState) {
  auto dir = testing::MaterializeGoldenCase("smolvla", "tiny");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  models::smolvla::SmolVlaOptions opt;
  opt.threads = 1;
  opt.tokenizer_path = testing::SharedDataDir() + "/smolvlm2-tokenizer/tokenizer.json";
  auto reference = models::smolvla::SmolVlaModel::Load(*dir, opt);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  const auto& cfg = (*reference)->config();
  std::vector<std::vector<uint8_t>> first, second;
  PolicyObservation obs;
  std::vector<models::smolvla::CameraImage> frames;
  for (size_t c = 0; c < cfg.num_cameras(); ++c) {
    first.push_back(Pattern(48, 64, static_cast<int>(c)));
    second.push_back(Pattern(48, 64, static_cast<int>(c) + 10));
  }
  auto bind = [&](std::vector<std::vector<uint8_t>>& px) {
    obs.images.clear();
    frames.clear();
    for (auto& p : px) {
      obs.images.push_back({p.data(), 48, 64});
      frames.push_back({p.data(), 48, 64});
    }
  };
  std::vector<float> s1(static_cast<size_t>(cfg.state_dim()), 0.25f), s2(s1.size(), -0.5f);
  const std::string task = "put the tea bag in the mug";
  obs.task = task;

  CpuExecutor ex({"cpu0", 1, {}});
  SmolVlaScheduleOptions so;
  so.vision_every = 2;
  auto policy = ScheduledSmolVlaPolicy::Create([&] { return models::smolvla::SmolVlaModel::Load(*dir, opt); }, "unused",
                                               {&ex}, so);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const size_t n = static_cast<size_t>((*policy)->chunk_size() * (*policy)->action_dim());
  std::vector<float> chunk(n), expected(n);

  // 1: full path, equals Predict()
  bind(first);
  obs.state = s1.data();
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_FALSE((*policy)->last_reused_vision());
  ASSERT_TRUE((*reference)->Predict(frames, task, s1.data(), nullptr, expected.data(), nullptr).ok());
  EXPECT_EQ(chunk, expected);
  // 2: new images and state; vision is skipped: the first images' tokens with the new state
  bind(second);
  obs.state = s2.data();
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_TRUE((*policy)->last_reused_vision());
  ASSERT_TRUE((*reference)->Prefill(task, s2.data()).ok());
  ASSERT_TRUE((*reference)->Denoise(nullptr, expected.data(), nullptr).ok());
  EXPECT_EQ(chunk, expected);
  EXPECT_EQ((*policy)->last_latencies()[0].ms, 0.0);
  // 3: vision again
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_FALSE((*policy)->last_reused_vision());
  EXPECT_EQ((*policy)->vision_runs(), 2);
  // Reset() forces a fresh encoding
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_TRUE((*policy)->last_reused_vision());
  (*policy)->Reset();
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_FALSE((*policy)->last_reused_vision());
}

TEST(ScheduledSmolVlaPolicy, AdaptiveSkipsVisionOnlyWhenTheBudgetIsShort) {
  auto dir = testing::MaterializeGoldenCase("smolvla", "tiny");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  models::smolvla::SmolVlaOptions opt;
  opt.threads = 1;
  opt.tokenizer_path = testing::SharedDataDir() + "/smolvlm2-tokenizer/tokenizer.json";
  CpuExecutor ex({"cpu0", 1, {}});
  SmolVlaScheduleOptions so;
  so.adaptive = true;
  so.max_vision_age = 3;
  auto policy = ScheduledSmolVlaPolicy::Create([&] { return models::smolvla::SmolVlaModel::Load(*dir, opt); }, "pick",
                                               {&ex}, so);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const size_t cams = (*policy)->model().config().num_cameras();
  std::vector<uint8_t> px = Pattern(48, 64, 1);
  PolicyObservation obs;
  for (size_t c = 0; c < cams; ++c) obs.images.push_back({px.data(), 48, 64});
  std::vector<float> state(static_cast<size_t>((*policy)->model().config().state_dim()), 0.1f);
  obs.state = state.data();
  std::vector<float> chunk(static_cast<size_t>((*policy)->chunk_size() * (*policy)->action_dim()));
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());  // first: always full
  (*policy)->SetLatencyBudget(1e9);                               // plenty: refresh every time
  ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
  EXPECT_FALSE((*policy)->last_reused_vision());
  (*policy)->SetLatencyBudget(1e-6);  // nothing fits: reuse, but at most max_vision_age - 1 times
  std::vector<bool> reused;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*policy)->PredictChunk(obs, chunk.data()).ok());
    reused.push_back((*policy)->last_reused_vision());
  }
  EXPECT_EQ(reused, (std::vector<bool>{true, true, false, true}));
}

}  // namespace
}  // namespace embody::runtime::sched
