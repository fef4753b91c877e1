// The libtorch ACT against LeRobot's names and embody's runtime: state_dict keys, the parity of
// a trained checkpoint's eval forward with `embody infer`'s model, and --resume after a kill.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "io/safetensors.h"
#include "io/json_file.h"
#include "models/act/act_weights.h"
#include "train/act_net.h"
#include "train/act_trainer.h"
#include "train/checkpoint_io.h"
#include "train/cpu_autocast.h"
#include "train/memory_source.h"
#include "train_fixtures.h"

namespace embody::train {
namespace {

TrainFeatures Features() { return testing::TwoCameraFeatures(64, 96); }

ActHparams Tiny(bool pre_norm = false) {
  ActHparams h;
  h.dim_model = 32;
  h.n_heads = 4;
  h.dim_feedforward = 64;
  h.n_encoder_layers = 2;
  h.n_decoder_layers = 1;
  h.n_vae_encoder_layers = 1;
  h.chunk_size = 10;
  h.n_action_steps = 10;
  h.pre_norm = pre_norm;
  h.feedforward_activation = pre_norm ? "gelu" : "relu";
  h.optimizer_lr = 1e-3;
  h.optimizer_lr_backbone = 1e-4;
  return h;
}

MemorySource Source() { return testing::SyntheticEpisodes(Features()); }

TrainOptions Options(const std::string& out, int64_t steps, int64_t save_every) {
  return testing::SmallRunOptions(out, steps, save_every);
}

std::string FreshTempDir(const std::string& name) { return testing::FreshTempDir("embody_train_test", name); }

// Runs `cmd` (an `embody infer ... --json --normalized`) in its own process, as in use: libtorch
// and the runtime's oneDNN must not share one (src/cli/sibling.h). Appends the chunk, normalized,
// to `out`. stdout is the JSON alone; anything the runtime logs goes to `log`.
void RuntimeNormalizedChunk(const std::string& cmd, const std::string& log, std::vector<float>* out) {
  const auto [status, text] = testing::RunCommand(cmd, log);
  ASSERT_EQ(status, 0) << cmd << "\n" << text;
  const io::Json reply = io::Json::parse(text);
  for (const auto& row : reply.at("actions"))
    for (const auto& v : row) out->push_back(v.get<float>());
}

double MaxAbsError(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) e = std::max(e, static_cast<double>(std::abs(a[i] - b[i])));
  return e;
}

TEST(ActTrain, StateDictNamesAreLeRobots) {
  const ActHparams h = Tiny();
  const TrainFeatures f = Features();
  ActPolicy policy(h, f);
  std::set<std::string> ours;
  for (const auto& [name, t] : StateDict(*policy)) ours.insert(name);
  auto config = models::act::ParseActConfig(MakeActConfigJson(h, f), "config.json");
  ASSERT_TRUE(config.ok());
  std::set<std::string> expected;
  const models::WeightTable table = models::act::MakeActWeightTable(*config);
  for (const auto& [name, shape] : table.expected()) expected.insert(name);
  // Training-only tensors, as in LeRobot's state_dict (1 VAE layer here).
  for (const char* k : {"model.vae_encoder_cls_embed.weight", "model.vae_encoder_robot_state_input_proj.weight",
                        "model.vae_encoder_robot_state_input_proj.bias", "model.vae_encoder_action_input_proj.weight",
                        "model.vae_encoder_action_input_proj.bias", "model.vae_encoder_latent_output_proj.weight",
                        "model.vae_encoder_latent_output_proj.bias", "model.vae_encoder_pos_enc"})
    expected.insert(k);
  for (const char* k : {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                        "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"})
    expected.insert(std::string("model.vae_encoder.layers.0.") + k);
  EXPECT_EQ(ours, expected);
}

TEST(ActTrain, Sinusoids) {
  // lerobot-models.md test vector: H=15, W=20, position (0,0).
  const torch::Tensor p = SinusoidalTable2d(15, 20, 256);
  EXPECT_NEAR(p[0][0][0][0].item<float>(), 0.406737f, 1e-5);
  EXPECT_NEAR(p[0][1][0][0].item<float>(), 0.913545f, 1e-5);
  EXPECT_NEAR(p[0][256][0][0].item<float>(), 0.309017f, 1e-5);
  EXPECT_NEAR(p[0][259][0][0].item<float>(), 0.957570f, 1e-5);
}

TEST(ActTrain, FrozenBatchNormsCalibrateToTheirInputs) {
  torch::manual_seed(3);
  ResNetTrunk trunk(ActHparams{}.vision_backbone);
  const torch::Tensor images = torch::randn({4, 3, 64, 96});
  CalibrateFrozenBatchNorms(*trunk, images);
  torch::NoGradGuard no_grad;
  // The stem's BN holds the statistics of conv1's output, and normalizes it.
  const torch::Tensor c = trunk->conv1(images);
  EXPECT_TRUE(torch::allclose(trunk->bn1->running_mean, c.mean({0, 2, 3}), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(trunk->bn1->running_var, c.var({0, 2, 3}, false), 1e-4, 1e-5));
  const torch::Tensor y = trunk->bn1(c);
  EXPECT_LT(y.mean({0, 2, 3}).abs().max().item<float>(), 1e-4);
  EXPECT_NEAR(y.var({0, 2, 3}, false).mean().item<float>(), 1.0f, 1e-3);
  EXPECT_FALSE(trunk->bn1->calibrating);
  // Deeper norms moved away from the identity too, and stay finite.
  for (const auto& item : trunk->named_buffers())
    EXPECT_TRUE(torch::isfinite(item.value()).all().template item<bool>()) << item.key();
  const torch::Tensor out = trunk(images);
  EXPECT_TRUE(torch::isfinite(out).all().template item<bool>());
}

// libtorch 2.x and the runtime's oneDNN interpose on each other's template instances; the trainer's
// processes must never load the runtime's libdnnl (src/cli/sibling.h).
TEST(ActTrain, ProcessDoesNotLoadTheRuntimesOneDnn) {
#ifndef EMBODY_LIBTORCH_OWN_ONEDNN
  GTEST_SKIP() << "this libtorch uses the system's oneDNN (e.g. Debian's libtorch-dev): one copy, no clash";
#endif
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) EXPECT_EQ(line.find("libdnnl"), std::string::npos) << line;
}

class ActTrainParity : public ::testing::TestWithParam<bool> {};

TEST_P(ActTrainParity, TrainedCheckpointRunsTheSameInTheRuntime) {
  const std::string out = FreshTempDir(GetParam() ? "act_train_parity_pre" : "act_train_parity");
  MemorySource source = Source();
  auto r = TrainAct(source, Tiny(GetParam()), Options(out, 3, 3));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->checkpoints.size(), 1u);
  const std::string dir = r->checkpoints[0].pretrained_dir;

  TrainSample s;
  ASSERT_TRUE(source.Get(7, 10, &s).ok());
  const TrainFeatures f = Features();
  const std::string cmd = std::string(EMBODY_CLI) + " infer " + dir + " --json --normalized" +
                          testing::InferInputArgs(s, f, out);
  std::vector<float> runtime_norm, torch_norm;
  RuntimeNormalizedChunk(cmd, out + "/infer.log", &runtime_norm);
  ASSERT_EQ(runtime_norm.size(), 60u);
  auto torch_actions = PredictWithTrainingGraph(dir, testing::CameraImages(s, f), s.state.data(), &torch_norm);
  ASSERT_TRUE(torch_actions.ok()) << torch_actions.status().ToString();
  ASSERT_EQ(torch_norm.size(), 60u);
  EXPECT_LT(MaxAbsError(torch_norm, runtime_norm), 1e-4) << "normalized actions differ";
  std::filesystem::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(PostAndPreNorm, ActTrainParity, ::testing::Bool());

// LeRobot's ACT on low-dimensional inputs only (state + environment state, no cameras): no
// backbone tensors, one more 1-D token, and the runtime gives the training graph's actions.
TEST(ActTrain, EnvironmentStateWithoutCamerasTrainsAndRunsTheSameInTheRuntime) {
  TrainFeatures f;
  f.state_dim = 6;
  f.env_state_dim = 5;
  f.action_dim = 6;
  const ActHparams h = Tiny();
  {
    ActPolicy policy(h, f);
    std::set<std::string> ours;
    for (const auto& [name, t] : StateDict(*policy)) ours.insert(name);
    EXPECT_EQ(ours.count("model.encoder_env_state_input_proj.weight"), 1u);
    EXPECT_EQ(ours.count("model.encoder_img_feat_input_proj.weight"), 0u);
    for (const std::string& name : ours) EXPECT_NE(name.rfind("model.backbone.", 0), 0u) << name;
    auto config = models::act::ParseActConfig(MakeActConfigJson(h, f), "config.json");
    ASSERT_TRUE(config.ok());
    const models::WeightTable table = models::act::MakeActWeightTable(*config);
    for (const auto& [name, shape] : table.expected()) EXPECT_EQ(ours.count(name), 1u) << name;
  }
  TrainFeatures none = f;
  none.env_state_dim = 0;
  MemorySource no_inputs = testing::SyntheticEpisodes(none);
  const std::string out = FreshTempDir("act_train_env_state");
  EXPECT_EQ(TrainAct(no_inputs, h, Options(out, 1, 1)).status().code(), StatusCode::kInvalidArgument);

  MemorySource source = testing::SyntheticEpisodes(f);
  auto r = TrainAct(source, h, Options(out, 3, 3));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(std::isfinite(r->final_loss));
  const std::string dir = r->checkpoints.at(0).pretrained_dir;
  TrainSample s;
  ASSERT_TRUE(source.Get(5, 10, &s).ok());
  const std::string cmd = std::string(EMBODY_CLI) + " infer " + dir + " --json --normalized" +
                          testing::InferInputArgs(s, f, out);
  std::vector<float> runtime_norm, torch_norm;
  RuntimeNormalizedChunk(cmd, out + "/infer.log", &runtime_norm);
  auto torch_actions = PredictWithTrainingGraph(dir, {}, s.state.data(), &torch_norm, s.env_state.data());
  ASSERT_TRUE(torch_actions.ok()) << torch_actions.status().ToString();
  ASSERT_EQ(runtime_norm.size(), 60u);
  ASSERT_EQ(torch_norm.size(), 60u);
  EXPECT_LT(MaxAbsError(torch_norm, runtime_norm), 1e-4) << "normalized actions differ";
  // Without the environment state the runtime refuses, naming the feature.
  const std::string no_env = std::string(EMBODY_CLI) + " infer " + dir + " --state 0,0,0,0,0,0";
  const auto [bad, why] = testing::RunCommand(no_env);
  EXPECT_NE(bad, 0);
  EXPECT_NE(why.find("--env-state"), std::string::npos) << why;
  // A plan for the backbone it does not have is refused, not silently ignored; its encoder and
  // decoder quantize.
  const auto [bad_plan, plan_why] = testing::RunCommand(cmd + " --plan backbone=int8");
  EXPECT_NE(bad_plan, 0);
  EXPECT_NE(plan_why.find("no backbone"), std::string::npos) << plan_why;
  EXPECT_EQ(testing::RunCommand(cmd + " --plan encoder=int8,decoder=int8", out + "/infer.log").first, 0);
  std::filesystem::remove_all(out);
}

// use_amp: the forward pass under bf16 autocast. The checkpoint records it (LeRobot reads the
// field), its weights stay f32, and the training graph under autocast still matches the f32
// runtime within bf16's resolution.
TEST(ActTrain, UseAmpTrainsInBf16AndKeepsF32Checkpoints) {
  const std::string out = FreshTempDir("act_train_amp");
  MemorySource source = Source();
  ActHparams h = Tiny();
  h.use_amp = true;
  auto r = TrainAct(source, h, Options(out, 3, 3));
  if (const Status supported = CpuAutocastSupported(); !supported.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented) << r.status().ToString();
    std::filesystem::remove_all(out);
    GTEST_SKIP() << supported.message();
  }
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(std::isfinite(r->final_loss));
  const std::string dir = r->checkpoints.at(0).pretrained_dir;
  auto cfg = io::ReadJsonFile(dir + "/config.json");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->at("use_amp"), true);
  auto st = io::SafetensorsFile::Open(dir + "/model.safetensors");
  ASSERT_TRUE(st.ok());
  for (const io::TensorEntry& e : (*st)->entries()) EXPECT_EQ(e.dtype, DType::kF32) << e.name;

  TrainSample s;
  ASSERT_TRUE(source.Get(7, 10, &s).ok());
  const TrainFeatures f = Features();
  const std::string cmd = std::string(EMBODY_CLI) + " infer " + dir + " --json --normalized" +
                          testing::InferInputArgs(s, f, out);
  std::vector<float> runtime_norm, amp_norm;
  RuntimeNormalizedChunk(cmd, out + "/infer.log", &runtime_norm);
  auto amp = PredictWithTrainingGraph(dir, testing::CameraImages(s, f), s.state.data(), &amp_norm);
  ASSERT_TRUE(amp.ok()) << amp.status().ToString();
  ASSERT_EQ(amp_norm.size(), runtime_norm.size());
  const double max_err = MaxAbsError(amp_norm, runtime_norm);
  double max_abs = 0;
  for (float v : runtime_norm) max_abs = std::max(max_abs, static_cast<double>(std::abs(v)));
  EXPECT_GT(max_err, 0) << "autocast did not change the arithmetic";
  EXPECT_LT(max_err, 0.05 * std::max(1.0, max_abs));
  std::filesystem::remove_all(out);
}

TEST(ActTrain, ResumeAfterAKillContinuesAsIfUninterrupted) {
  const std::string a = FreshTempDir("act_train_straight"), b = FreshTempDir("act_train_resumed");
  MemorySource source = Source();
  ASSERT_TRUE(TrainAct(source, Tiny(), Options(a, 4, 2)).ok());
  TrainOptions killed = Options(b, 4, 2);
  killed.stop_after = 3;  // dies after step 3: the last checkpoint is step 2
  ASSERT_TRUE(TrainAct(source, Tiny(), killed).ok());
  TrainOptions resumed = Options(b, 4, 2);
  resumed.resume = true;
  auto r = TrainAct(source, Tiny(), resumed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_step, 2);
  EXPECT_EQ(r->last_step, 4);
  const std::string tail = "/checkpoints/000004/pretrained_model/model.safetensors";
  EXPECT_EQ(testing::FileBytes(a + tail), testing::FileBytes(b + tail)) << "resumed weights differ from an uninterrupted run";
  // Resuming a finished run is an error, not a silent no-op.
  EXPECT_EQ(TrainAct(source, Tiny(), resumed).status().code(), StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

}  // namespace
}  // namespace embody::train
