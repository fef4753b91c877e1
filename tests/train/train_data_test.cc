// Training data plumbing without libtorch: sampling, padding at episode ends, checkpoint files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "models/act/act_config.h"
#include "support/golden_checkpoint.h"
#include "train/batch_loader.h"
#include "train/checkpoint_io.h"
#include "train/eval/eval_summary.h"
#include "train/memory_source.h"
#ifdef EMBODY_HAVE_SIM_EPISODES
#include "train/sim_episodes.h"
#endif

namespace embody::train {
namespace {

TrainFeatures TinyFeatures() {
  TrainFeatures f;
  f.cameras = {"observation.images.top"};
  f.height = 4;
  f.width = 5;
  f.state_dim = 2;
  f.action_dim = 2;
  return f;
}

// Episode e has `frames` frames; action value = 100 * e + t, so padding is visible.
MemorySource MakeSource(const std::vector<int>& lengths) {
  MemorySource s(TinyFeatures(), "test");
  for (size_t e = 0; e < lengths.size(); ++e) {
    MemoryEpisode ep;
    ep.frames = lengths[e];
    ep.images.assign(static_cast<size_t>(ep.frames) * 4 * 5 * 3, static_cast<uint8_t>(e));
    for (int t = 0; t < ep.frames; ++t) {
      const float v = static_cast<float>(100 * e + t);
      ep.states.insert(ep.states.end(), {v, -v});
      ep.actions.insert(ep.actions.end(), {v, 2 * v});
    }
    EXPECT_TRUE(s.Add(std::move(ep)).ok());
  }
  return s;
}

TEST(TrainData, ChunkIsPaddedAtTheEpisodeEnd) {
  MemorySource s = MakeSource({5, 7});
  TrainSample x;
  ASSERT_TRUE(s.Get(3, 4, &x).ok());  // episode 0, t = 3: actions t=3,4 then padded
  EXPECT_EQ(x.actions, (std::vector<float>{3, 6, 4, 8, 4, 8, 4, 8}));
  EXPECT_EQ(x.action_is_pad, (std::vector<uint8_t>{0, 0, 1, 1}));
  ASSERT_TRUE(s.Get(5, 2, &x).ok());  // first frame of episode 1
  EXPECT_EQ(x.state, (std::vector<float>{100, -100}));
  EXPECT_EQ(x.images[0], 1);
  EXPECT_EQ(s.Get(12, 2, &x).code(), StatusCode::kOutOfRange);
}

TEST(TrainData, BadEpisodeIsRejected) {
  MemorySource s(TinyFeatures(), "test");
  MemoryEpisode ep;
  ep.frames = 2;
  ep.images.resize(10);
  EXPECT_EQ(s.Add(ep).code(), StatusCode::kInvalidArgument);
}

TEST(TrainData, StatsArePopulationMeanAndStd) {
  MemorySource s = MakeSource({3});
  auto st = s.Stats();
  ASSERT_TRUE(st.ok());
  const FeatureStats& a = st->at("action");
  EXPECT_FLOAT_EQ(a.mean[0], 1);
  EXPECT_FLOAT_EQ(a.std[0], std::sqrt(2.f / 3.f));
  EXPECT_FLOAT_EQ(a.max[1], 4);
  EXPECT_EQ(a.count, 3);
}

TEST(TrainData, BatchesCoverEveryFrameOncePerEpochAndDependOnlyOnTheStep) {
  const int64_t n = 37;
  std::multiset<int64_t> seen;
  for (int64_t step = 0; step < 37; ++step)  // 37 batches of 4 = 4 epochs
    for (int64_t f : BatchFrames(n, 4, 7, step)) seen.insert(f);
  for (int64_t f = 0; f < n; ++f) EXPECT_EQ(seen.count(f), 4u) << f;
  EXPECT_EQ(BatchFrames(n, 4, 7, 11), BatchFrames(n, 4, 7, 11));
  EXPECT_NE(BatchFrames(n, 4, 7, 11), BatchFrames(n, 4, 8, 11));
}

TEST(TrainData, LoaderDeliversInStepOrderAndResumes) {
  MemorySource s = MakeSource({6, 9, 4});
  LoaderOptions o;
  o.batch_size = 3;
  o.chunk = 5;
  o.workers = 3;
  std::vector<std::vector<int64_t>> first;
  {
    BatchLoader l(s, o);
    for (int i = 0; i < 6; ++i) {
      Batch b;
      ASSERT_TRUE(l.Next(&b).ok());
      EXPECT_EQ(b.step, i);
      EXPECT_EQ(b.actions.size(), 3u * 5 * 2);
      first.push_back(b.frames);
    }
  }
  o.first_step = 4;
  BatchLoader l(s, o);
  Batch b;
  ASSERT_TRUE(l.Next(&b).ok());
  EXPECT_EQ(b.frames, first[4]);
}

TEST(TrainData, ConfigJsonRoundTripsThroughTheRuntimeParser) {
  ActHparams h;
  h.dim_model = 64;
  h.n_heads = 4;
  h.chunk_size = 20;
  h.n_action_steps = 10;
  h.pre_norm = true;
  const TrainFeatures f = TinyFeatures();
  const io::Json j = MakeActConfigJson(h, f);
  auto c = models::act::ParseActConfig(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->unknown_fields.empty());
  ActHparams h2;
  TrainFeatures f2;
  ASSERT_TRUE(ReadActConfigJson(j, "config.json", &h2, &f2).ok());
  EXPECT_EQ(h2.dim_model, 64);
  EXPECT_TRUE(h2.pre_norm);
  EXPECT_EQ(f2.cameras, f.cameras);
  EXPECT_EQ(f2.height, 4);
  h.n_heads = 5;
  EXPECT_EQ(ValidateHparams(h).code(), StatusCode::kInvalidArgument);
}

// observation.environment_state rides along with the state: per frame, in the stats, in the
// config.json the runtime parses, and in the normalizer's feature list.
TEST(TrainData, EnvironmentStateFlowsThroughSamplesStatsAndConfig) {
  TrainFeatures f;
  f.state_dim = 2;
  f.env_state_dim = 3;
  f.action_dim = 2;
  MemorySource s(f, "env");
  MemoryEpisode ep;
  ep.frames = 4;
  for (int t = 0; t < 4; ++t) {
    ep.states.insert(ep.states.end(), {1.f * t, 0});
    ep.actions.insert(ep.actions.end(), {1.f * t, 1});
    ep.env_states.insert(ep.env_states.end(), {10.f * t, -1, 0.5});
  }
  MemoryEpisode short_env = ep;
  short_env.env_states.pop_back();
  EXPECT_EQ(s.Add(short_env).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.Add(ep).ok());
  TrainSample x;
  ASSERT_TRUE(s.Get(2, 3, &x).ok());
  EXPECT_EQ(x.env_state, (std::vector<float>{20, -1, 0.5}));
  EXPECT_TRUE(x.images.empty());
  auto st = s.Stats();
  ASSERT_TRUE(st.ok());
  EXPECT_FLOAT_EQ(st->at("observation.environment_state").mean[0], 15);
  Batch b;
  ASSERT_TRUE(GatherFrames(s, {3, 1}, 3, "test", &b).ok());
  EXPECT_EQ(b.env_state, (std::vector<float>{30, -1, 0.5, 10, -1, 0.5}));

  const io::Json j = MakeActConfigJson(ActHparams{}, f);
  auto c = models::act::ParseActConfig(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->env_state_dim(), 3);
  EXPECT_EQ(c->num_cameras(), 0u);
  ActHparams h2;
  TrainFeatures f2;
  ASSERT_TRUE(ReadActConfigJson(j, "config.json", &h2, &f2).ok());
  EXPECT_EQ(f2.env_state_dim, 3);
  EXPECT_TRUE(f2.cameras.empty());
  f2.env_state_dim = 4;
  EXPECT_EQ(CheckCheckpointFeatures(f, f2, "ckpt").code(), StatusCode::kInvalidArgument);
}

#ifdef EMBODY_HAVE_SIM_EPISODES
// The expert's episodes without rendering: the state-only source carries the bag's pose.
TEST(TrainData, SimEpisodesCarryTheBagPoseWithoutCameras) {
  SimEpisodeOptions o;
  o.episodes = 2;
  o.cameras = false;
  o.env_state = true;
  auto src = GenerateSimEpisodes(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  const TrainFeatures& f = (*src)->features();
  EXPECT_TRUE(f.cameras.empty());
  EXPECT_EQ(f.env_state_dim, 5);
  TrainSample x;
  ASSERT_TRUE((*src)->Get(0, 4, &x).ok());
  ASSERT_EQ(x.env_state.size(), 5u);
  EXPECT_GT(x.env_state[2], 0.f);  // resting on the table
  EXPECT_NEAR(x.env_state[3] * x.env_state[3] + x.env_state[4] * x.env_state[4], 1.0, 1e-5);
  EXPECT_TRUE(x.images.empty());
  o.env_state = false;
  EXPECT_EQ(GenerateSimEpisodes(o).status().code(), StatusCode::kInvalidArgument);
}
#endif

TEST(TrainData, CheckpointsArePublishedWhole) {
  const std::string out = testing::FreshTempDir("train_publish");
  EXPECT_EQ(LastCheckpointStep(out).status().code(), StatusCode::kNotFound);
  auto write = [](const std::string& dir) -> Status {
    std::filesystem::create_directories(dir + "/pretrained_model");
    return io::WriteJsonFile(dir + "/pretrained_model/model.safetensors", io::Json::object());
  };
  ASSERT_TRUE(PublishCheckpoint(out, 20, write).ok());
  ASSERT_TRUE(PublishCheckpoint(out, 40, write).ok());
  // A failing writer leaves the published ones and `last` untouched.
  EXPECT_FALSE(PublishCheckpoint(out, 60, [](const std::string&) { return IoError("disk full"); }).ok());
  auto last = LastCheckpointStep(out);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 40);
  EXPECT_EQ(ListCheckpoints(out), (std::vector<int64_t>{20, 40}));
  EXPECT_TRUE(std::filesystem::exists(out + "/checkpoints/000040/pretrained_model/model.safetensors"));
  std::filesystem::remove_all(out);
}

TEST(TrainData, TrainingStateRoundTrips) {
  const std::string dir = testing::FreshTempDir("train_state");
  TrainingState s;
  s.step = 7;
  Tensor t = Tensor::Empty(DType::kF32, {2});
  t.data<float>()[0] = 1.5f;
  t.data<float>()[1] = -2;
  s.optimizer.emplace_back("state.0.exp_avg", t);
  Tensor step = Tensor::Empty(DType::kF32, Shape{});
  step.data<float>()[0] = 7;
  s.optimizer.emplace_back("state.0.step", step);
  s.param_groups = io::Json::array({{{"lr", 1e-5}}});
  Tensor r = Tensor::Empty(DType::kU8, {3});
  std::fill(r.data<uint8_t>(), r.data<uint8_t>() + 3, 9);
  s.rng.emplace_back("torch_cpu", r);
  ASSERT_TRUE(WriteTrainingState(dir, s).ok());
  auto back = ReadTrainingState(dir);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->step, 7);
  ASSERT_EQ(back->optimizer.size(), 2u);
  EXPECT_EQ(back->optimizer[0].second.data<float>()[1], -2);
  EXPECT_EQ(back->rng[0].second.data<uint8_t>()[2], 9);
  std::filesystem::remove_all(dir);
}

// A failure is a missed grasp when the bag never rose kLiftedBagMetres, else a lost bag; the
// JSON that `embody report` and `--select-by success` read keeps the counts and rates.
TEST(EvalSummary, ClassifiesFailuresAndRoundTripsThroughJson) {
  EvalSummary s;
  s.checkpoint = "ckpt";
  s.policy = "act";
  s.format = "f32";
  s.mode = "sync";
  s.latency_profile = "measured";
  s.platform = "host";
  s.latency_ms = 21.5;
  s.test_success = 1;
  s.test_total = 2;
  s.val_success = 0;
  s.val_total = 1;
  s.episodes = {{"test", 0, 7, true, 9.5, "", 0.12},
                {"test", 1, 8, false, -1, "", 0.005},
                {"val", 6, 9, false, -1, "", 0.09}};
  EXPECT_EQ(FailureOf(s.episodes[0]), EpisodeFailure::kNone);
  EXPECT_EQ(FailureOf(s.episodes[1]), EpisodeFailure::kMissedGrasp);
  EXPECT_EQ(FailureOf(s.episodes[2]), EpisodeFailure::kDroppedOrMisplaced);
  EXPECT_STREQ(FailureName(EpisodeFailure::kMissedGrasp), "missed grasp");
  EXPECT_EQ(s.missed_grasps(), 1);
  EXPECT_EQ(s.dropped_or_misplaced(), 1);

  const io::Json j = SummaryToJson(s);
  EXPECT_EQ(j.at("failures").at("missed_grasp").get<int>(), 1);
  EXPECT_EQ(j.at("failures").at("dropped_or_misplaced").get<int>(), 1);
  EXPECT_EQ(j.at("episodes").size(), 3u);
  auto back = SummaryFromJson(j, "run.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->checkpoint, "ckpt");
  EXPECT_DOUBLE_EQ(back->latency_ms, 21.5);
  EXPECT_DOUBLE_EQ(back->global(), 1.0 / 3.0);

  io::Json broken = j;
  broken.erase("val");
  auto bad = SummaryFromJson(broken, "run.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("run.json"), std::string::npos);
}

}  // namespace
}  // namespace embody::train
