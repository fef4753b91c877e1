// The libtorch SmolVLA against LeRobot's names and embody's runtime: state_dict keys against the
// runtime's weight table, the loss going down, the trained module's own sampling against
// `embody infer` with the same noise, --resume after a kill, and errors for bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "core/seeded.h"
#include "io/json_file.h"
#include "models/smolvla/smolvla_weights.h"
#include "train/checkpoint_io.h"
#include "train/memory_source.h"
#include "train_fixtures.h"
#include "train/smolvla_net.h"
#include "train/smolvla_trainer.h"
#include "train/torch_tensors.h"

namespace embody::train {
namespace {

const std::string kTokenizerDir = std::string(EMBODY_SHARED_DATA_DIR) + "/smolvlm2-tokenizer";
const char* kTask = "put the tea bag in the mug";

std::string FreshTempDir(const std::string& name) {
  return testing::FreshTempDir("embody_smolvla_train_test", name);
}

// 48x64 images, resized with padding to the tiny backbone's 32x32.
TrainFeatures Features() { return testing::TwoCameraFeatures(48, 64); }

SmolVlaHparams Tiny(bool train_expert_only = true) {
  SmolVlaHparams h;
  h.vlm = TinyVlm();
  h.num_vlm_layers = h.vlm.text.layers;
  h.chunk_size = 10;
  h.n_action_steps = 10;
  h.num_steps = 4;
  h.optimizer_lr = 1e-3;
  h.train_expert_only = train_expert_only;
  h.freeze_vision_encoder = train_expert_only;
  return h;
}

MemorySource Source() { return testing::SyntheticEpisodes(Features(), kTask); }

TrainOptions Options(const std::string& out, int64_t steps, int64_t save_every) {
  return testing::SmallRunOptions(out, steps, save_every);
}

TEST(SmolVlaTrain, StateDictNamesAndShapesAreTheRuntimes) {
  const SmolVlaHparams h = Tiny();
  const TrainFeatures f = Features();
  const std::string dir = FreshTempDir("names");
  ASSERT_TRUE(io::WriteJsonFile(dir + "/config.json", MakeSmolVlaConfigJson(h, f)).ok());
  ASSERT_TRUE(io::WriteJsonFile(dir + "/vlm_config.json", MakeVlmConfigJson(h.vlm)).ok());
  auto config = models::smolvla::LoadSmolVlaConfig(dir);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  std::map<std::string, std::vector<int64_t>> expected;
  const models::WeightTable table = models::smolvla::MakeSmolVlaWeightTable(*config);
  for (const auto& [name, shape] : table.expected())
    expected[name] = shape.vec();
  // In LeRobot's state_dict but unused at inference (the runtime does not read them).
  const int64_t vocab = h.vlm.text.vocab, hidden = h.vlm.text.hidden;
  expected[models::smolvla::kVlm + "text_model.norm.weight"] = {hidden};
  expected["model.vlm_with_expert.vlm.lm_head.weight"] = {vocab, hidden};
  SmolVlaPolicy policy(h);
  std::map<std::string, std::vector<int64_t>> ours;
  for (const auto& [name, t] : StateDict(*policy)) ours[name] = std::vector<int64_t>(t.sizes().begin(), t.sizes().end());
  EXPECT_EQ(ours, expected);
  std::filesystem::remove_all(dir);
}

TEST(SmolVlaTrain, FreezingFollowsLeRobot) {
  SmolVlaPolicy frozen(Tiny(true)), open(Tiny(false));
  auto trainable = [](SmolVlaPolicy& p, const std::string& prefix) {
    for (const auto& item : p->named_parameters(true))
      if (item.key().rfind(prefix, 0) == 0 && item.value().requires_grad()) return true;
    return false;
  };
  // train_expert_only: the whole VLM frozen; the expert, state and action projections train.
  EXPECT_FALSE(trainable(frozen, "model.vlm_with_expert.vlm."));
  EXPECT_TRUE(trainable(frozen, "model.vlm_with_expert.lm_expert."));
  EXPECT_TRUE(trainable(frozen, "model.state_proj."));
  EXPECT_TRUE(trainable(open, "model.vlm_with_expert.vlm.model.vision_model."));
  EXPECT_TRUE(trainable(open, "model.vlm_with_expert.vlm.model.text_model."));
  EXPECT_FALSE(trainable(open, "model.vlm_with_expert.vlm.lm_head."));
}

TEST(SmolVlaTrain, SchedulerIsLeRobotsCosineDecayWithWarmup) {
  SmolVlaHparams h;  // warmup 1000, decay 30000, peak 1e-4, decay_lr 2.5e-6
  EXPECT_NEAR(CosineDecayWithWarmup(h, 100000, 0), 1.0 / 1001, 1e-12);
  EXPECT_NEAR(CosineDecayWithWarmup(h, 100000, 500), (1.0 / 1001 - 1) * 0.5 + 1, 1e-12);
  EXPECT_NEAR(CosineDecayWithWarmup(h, 100000, 1000), 0.975 * 0.5 * (1 + std::cos(3.141592653589793 / 30)) + 0.025, 1e-12);
  EXPECT_NEAR(CosineDecayWithWarmup(h, 100000, 40000), 0.025, 1e-12);
  // A 300-step run scales warmup to int(1000 * 0.01) = 10 and decay to 300.
  EXPECT_NEAR(CosineDecayWithWarmup(h, 300, 0), 1.0 / 11, 1e-12);
  EXPECT_NEAR(CosineDecayWithWarmup(h, 300, 150), 0.975 * 0.5 + 0.025, 1e-12);
}

TEST(SmolVlaTrain, LossDecreasesOnATinyConfig) {
  const std::string out = FreshTempDir("loss");
  MemorySource source = Source();
  // The validation loss uses the same noise and times at every checkpoint, so they compare:
  // after step 1, then after step 40 (resumed, so the 40-step run's schedule is the same).
  auto first = TrainSmolVla(source, Tiny(false), Options(out, 1, 1), kTokenizerDir, &source);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  TrainOptions more = Options(out, 40, 40);
  more.resume = true;
  auto last = TrainSmolVla(source, Tiny(false), more, kTokenizerDir, &source);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  ASSERT_EQ(first->checkpoints.size(), 1u);
  ASSERT_EQ(last->checkpoints.size(), 1u);
  const double v1 = first->checkpoints[0].val_l1, v40 = last->checkpoints[0].val_l1;
  RecordProperty("val_loss_step_1", std::to_string(v1));
  RecordProperty("val_loss_step_40", std::to_string(v40));
  EXPECT_GT(v1, 0);
  EXPECT_LT(v40, 0.9 * v1) << "step 1: " << v1 << ", step 40: " << v40;
  std::filesystem::remove_all(out);
}

class SmolVlaTrainParity : public ::testing::TestWithParam<bool> {};

TEST_P(SmolVlaTrainParity, TrainedCheckpointSamplesTheSameInEmbodyInfer) {
  const std::string out = FreshTempDir(GetParam() ? "parity_expert" : "parity_all");
  MemorySource source = Source();
  auto r = TrainSmolVla(source, Tiny(GetParam()), Options(out, 3, 3), kTokenizerDir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->checkpoints.size(), 1u);
  const std::string dir = r->checkpoints[0].pretrained_dir;
  ASSERT_TRUE(std::filesystem::exists(dir + "/tokenizer/tokenizer.json"));
  ASSERT_TRUE(std::filesystem::exists(dir + "/vlm_config.json"));

  TrainSample s;
  ASSERT_TRUE(source.Get(7, 10, &s).ok());
  const TrainFeatures f = Features();
  // The runtime runs in its own process (src/cli/sibling.h), with the seeded noise of its
  // --noise-seed, which the training graph gets too.
  const int seed = 5;
  std::string cmd = std::string(EMBODY_CLI) + " infer " + dir + " --json --normalized --threads 1 --noise-seed " +
                    std::to_string(seed) + " --task \"" + kTask + "\"";
  cmd += testing::InferInputArgs(s, f, out);
  const std::vector<const uint8_t*> images = testing::CameraImages(s, f);
  const auto [code, text] = testing::RunCommand(cmd, out + "/infer.log");  // stdout is the JSON alone
  ASSERT_EQ(code, 0) << cmd << "\n" << text << testing::FileBytes(out + "/infer.log");
  std::vector<float> runtime;
  const io::Json reply = io::Json::parse(text);
  for (const auto& row : reply.at("actions"))
    for (const auto& v : row) runtime.push_back(v.get<float>());
  const int64_t n = 10 * 32;
  ASSERT_EQ(runtime.size(), static_cast<size_t>(n));

  std::vector<float> noise(static_cast<size_t>(n));
  seeded::FillWeight("noise." + std::to_string(seed), Shape{n, 1}, 0, noise.data());
  auto chunk = SampleSmolVlaWithTrainingGraph(dir, images, s.state.data(), kTask, noise);
  ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
  ASSERT_EQ(chunk->normalized.size(), static_cast<size_t>(n));
  double max_err = 0, max_abs = 0;
  for (int64_t i = 0; i < n; ++i) {
    max_err = std::max(max_err, static_cast<double>(std::abs(chunk->normalized[i] - runtime[i])));
    max_abs = std::max(max_abs, static_cast<double>(std::abs(runtime[i])));
  }
  char err[32];
  std::snprintf(err, sizeof err, "%.3g", max_err);
  RecordProperty("max_abs_error", err);
  EXPECT_LT(max_err, 1e-4) << "normalized chunks differ (largest value " << max_abs << ")";
  EXPECT_GT(max_abs, 0.1) << "a degenerate chunk would compare trivially";
  std::filesystem::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(ExpertOnlyAndAll, SmolVlaTrainParity, ::testing::Bool());

TEST(SmolVlaTrain, ResumeAfterAKillContinuesAsIfUninterrupted) {
  const std::string a = FreshTempDir("straight"), b = FreshTempDir("resumed");
  MemorySource source = Source();
  ASSERT_TRUE(TrainSmolVla(source, Tiny(), Options(a, 4, 2), kTokenizerDir).ok());
  TrainOptions killed = Options(b, 4, 2);
  killed.stop_after = 3;  // dies after step 3: the last checkpoint is step 2
  ASSERT_TRUE(TrainSmolVla(source, Tiny(), killed, kTokenizerDir).ok());
  TrainOptions resumed = Options(b, 4, 2);
  resumed.resume = true;
  auto r = TrainSmolVla(source, Tiny(), resumed, kTokenizerDir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_step, 2);
  EXPECT_EQ(r->last_step, 4);
  const std::string tail = "/checkpoints/000004/pretrained_model/model.safetensors";
  EXPECT_EQ(testing::FileBytes(a + tail), testing::FileBytes(b + tail)) << "resumed weights differ from an uninterrupted run";
  EXPECT_TRUE(std::filesystem::exists(b + "/checkpoints/000004/training_state/scheduler_state.json"));
  EXPECT_EQ(TrainSmolVla(source, Tiny(), resumed, kTokenizerDir).status().code(), StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST(SmolVlaTrain, BadInputGivesClearErrors) {
  MemorySource source = Source();
  const std::string out = FreshTempDir("bad");
  // A tokenizer folder that does not exist is named.
  auto r = TrainSmolVla(source, Tiny(), Options(out, 1, 1), out + "/no-tokenizer");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no-tokenizer"), std::string::npos) << r.status().ToString();
  // An image size that the patches and pixel shuffle cannot tile.
  SmolVlaHparams h = Tiny();
  h.vlm.vision.image_size = 36;
  r = TrainSmolVla(source, h, Options(out, 1, 1), kTokenizerDir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image_size"), std::string::npos) << r.status().ToString();
  // A state wider than max_state_dim.
  h = Tiny();
  h.max_state_dim = 4;
  EXPECT_EQ(TrainSmolVla(source, h, Options(out, 1, 1), kTokenizerDir).status().code(), StatusCode::kInvalidArgument);
  // The CLI: an unknown policy, and an option of the other policy.
  auto [code, text] = testing::RunCommand(std::string(EMBODY_CLI) + " train --policy diffusion --sim-episodes 1 -o " + out);
  EXPECT_NE(code, 0);
  EXPECT_NE(text.find("act or smolvla"), std::string::npos) << text;
  std::tie(code, text) = testing::RunCommand(std::string(EMBODY_CLI) + " train --policy smolvla --dim-model 64 --sim-episodes 1 -o " + out);
  EXPECT_NE(code, 0);
  EXPECT_NE(text.find("--dim-model"), std::string::npos) << text;
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace embody::train
