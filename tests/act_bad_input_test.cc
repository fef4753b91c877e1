// Bad checkpoints and bad observations: a clear error naming what and where, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <thread>
#include <fstream>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "models/act/act_model.h"
#include "models/act/act_seeded_checkpoint.h"
#include "support/golden_checkpoint.h"

namespace embody {
namespace {

namespace fs = std::filesystem;
using models::act::ActModel;
using models::act::ActOptions;

models::act::SeededActSpec SmallSpec() {
  models::act::SeededActSpec s;
  s.cameras = {"top", "gripper"};
  s.height = 64;
  s.width = 96;
  s.dim_model = 64;
  s.n_heads = 4;
  s.dim_feedforward = 128;
  s.n_encoder_layers = 2;
  s.chunk_size = 10;
  s.n_action_steps = 10;
  return s;
}

std::string MakeCheckpoint(const std::string& name, const models::act::SeededActSpec& spec = SmallSpec()) {
  const std::string dir = testing::FreshTempDir(name);
  EXPECT_TRUE(models::act::WriteSeededActCheckpoint(dir, spec).ok());
  return dir;
}

void EditConfig(const std::string& dir, const std::function<void(io::Json&)>& edit) {
  auto j = io::ReadJsonFile(dir + "/config.json");
  ASSERT_TRUE(j.ok());
  edit(*j);
  ASSERT_TRUE(io::WriteJsonFile(dir + "/config.json", *j).ok());
}

Status LoadStatus(const std::string& dir) { return ActModel::Load(dir, ActOptions{}).status(); }

void ExpectError(const Status& s, StatusCode code, std::initializer_list<const char*> fragments) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const char* f : fragments) EXPECT_NE(s.message().find(f), std::string::npos) << "missing '" << f << "' in: " << s.ToString();
}

TEST(ActBadInput, SmallSeededCheckpointLoadsAndRuns) {
  const std::string dir = MakeCheckpoint("ok");
  auto m = ActModel::Load(dir, ActOptions{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<uint8_t> img(64 * 96 * 3, 128);
  float state[6] = {0, 1, 2, 3, 4, 5};
  models::act::ActObservation obs{{{img.data(), 64, 96}, {img.data(), 64, 96}}, state, nullptr};
  std::vector<float> actions(60);
  ASSERT_TRUE((*m)->Predict(obs, actions.data(), nullptr).ok());
  for (float a : actions) EXPECT_TRUE(std::isfinite(a));
}

// A model is built on one thread and run on others (the asynchronous inference thread), and two
// models run at the same time: results equal a run on the loading thread (each op owns its
// oneDNN scratchpad).
TEST(ActBadInput, ModelsRunOnOtherThreadsAndConcurrently) {
  const std::string dir = MakeCheckpoint("threads");
  auto a = ActModel::Load(dir, ActOptions{});
  auto b = ActModel::Load(dir, ActOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<uint8_t> img(64 * 96 * 3);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i * 7);
  float state[6] = {0, 1, 2, 3, 4, 5};
  models::act::ActObservation obs{{{img.data(), 64, 96}, {img.data(), 64, 96}}, state, nullptr};
  std::vector<float> ref(60), ra(60), rb(60);
  ASSERT_TRUE((*a)->Predict(obs, ref.data(), nullptr).ok());
  for (int round = 0; round < 3; ++round) {
    bool ok_a = false, ok_b = false;
    std::thread ta([&] { ok_a = (*a)->Predict(obs, ra.data(), nullptr).ok(); });
    std::thread tb([&] { ok_b = (*b)->Predict(obs, rb.data(), nullptr).ok(); });
    ta.join();
    tb.join();
    ASSERT_TRUE(ok_a && ok_b);
    EXPECT_EQ(ra, ref);
    EXPECT_EQ(rb, ref);
  }
}

TEST(ActBadInput, MissingAndMisshapedTensorsAreAllListed) {
  const std::string dir = MakeCheckpoint("missing");
  auto f = io::SafetensorsFile::Open(dir + "/model.safetensors");
  ASSERT_TRUE(f.ok());
  io::SafetensorsWriter w;
  std::vector<Tensor> keep;
  for (const auto& e : (*f)->entries()) {
    if (e.name == "model.action_head.weight" || e.name == "model.decoder.norm.bias") continue;
    Tensor t = *(*f)->View(e.name);
    if (e.name == "model.encoder.layers.0.linear1.weight") t = Tensor::Zeros(DType::kF32, {128, 63});
    keep.push_back(t.Clone());
    w.Add(e.name, keep.back());
  }
  f->reset();
  ASSERT_TRUE(w.Write(dir + "/model.safetensors").ok());
  ExpectError(LoadStatus(dir), StatusCode::kInvalidArgument,
              {"model.safetensors", "3 problem(s)", "missing tensor 'model.action_head.weight'",
               "missing tensor 'model.decoder.norm.bias'", "'model.encoder.layers.0.linear1.weight' has shape [128, 63], expected [128, 64]"});
}

TEST(ActBadInput, TruncatedWeightsFile) {
  const std::string dir = MakeCheckpoint("truncated");
  fs::resize_file(dir + "/model.safetensors", fs::file_size(dir + "/model.safetensors") / 2);
  ExpectError(LoadStatus(dir), StatusCode::kDataLoss, {"model.safetensors", "truncated"});
}

TEST(ActBadInput, ConfigProblemsNameTheField) {
  struct Edit {
    const char* name;
    std::function<void(io::Json&)> edit;
    StatusCode code;
    std::vector<const char*> fragments;
  };
  const std::vector<Edit> edits = {
      {"wrong_type", [](io::Json& j) { j["type"] = "diffusion"; }, StatusCode::kInvalidArgument, {"config.json", "\"diffusion\""}},
      {"no_type", [](io::Json& j) { j.erase("type"); }, StatusCode::kInvalidArgument, {"config.json", "type"}},
      {"string_int", [](io::Json& j) { j["dim_model"] = "64"; }, StatusCode::kInvalidArgument, {"'dim_model'", "expected an integer"}},
      {"heads", [](io::Json& j) { j["n_heads"] = 5; }, StatusCode::kInvalidArgument, {"not divisible"}},
      {"glu", [](io::Json& j) { j["feedforward_activation"] = "glu"; }, StatusCode::kUnimplemented, {"feedforward_activation"}},
      {"backbone", [](io::Json& j) { j["vision_backbone"] = "resnet50"; }, StatusCode::kUnimplemented, {"vision_backbone"}},
      {"steps", [](io::Json& j) { j["n_action_steps"] = 11; }, StatusCode::kInvalidArgument, {"exceeds chunk_size"}},
      {"feature_type", [](io::Json& j) { j["input_features"]["observation.state"]["type"] = "JOINTS"; },
       StatusCode::kInvalidArgument, {"input_features.observation.state", "JOINTS"}},
      {"no_action", [](io::Json& j) { j["output_features"] = io::Json::object(); }, StatusCode::kInvalidArgument, {"'action'"}},
      {"camera_shapes", [](io::Json& j) { j["input_features"]["observation.images.top"]["shape"] = {3, 32, 32}; },
       StatusCode::kInvalidArgument, {"same shape"}},
  };
  for (const Edit& e : edits) {
    const std::string dir = MakeCheckpoint(std::string("cfg_") + e.name);
    EditConfig(dir, e.edit);
    const Status s = LoadStatus(dir);
    EXPECT_EQ(s.code(), e.code) << e.name << ": " << s.ToString();
    for (const char* f : e.fragments) EXPECT_NE(s.message().find(f), std::string::npos) << e.name << ": " << s.ToString();
  }
  const std::string dir = MakeCheckpoint("cfg_json");
  { std::ofstream(dir + "/config.json") << "{\"type\": \"act\","; }
  ExpectError(LoadStatus(dir), StatusCode::kDataLoss, {"config.json", "not valid JSON"});
}

TEST(ActBadInput, UnknownConfigFieldsAreReportedNotFatal) {
  const std::string dir = MakeCheckpoint("unknown_field");
  EditConfig(dir, [](io::Json& j) { j["future_knob"] = 3; });
  auto m = ActModel::Load(dir, ActOptions{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ((*m)->config().unknown_fields.size(), 1u);
  EXPECT_EQ((*m)->config().unknown_fields[0], "future_knob");
}

TEST(ActBadInput, MissingNormalizationStats) {
  const std::string dir = MakeCheckpoint("no_stats");
  fs::remove(dir + "/policy_preprocessor.json");
  fs::remove(dir + "/policy_postprocessor.json");
  ExpectError(LoadStatus(dir), StatusCode::kNotFound, {"no policy_preprocessor.json"});
  const std::string dir2 = MakeCheckpoint("missing_stats_file");
  fs::remove(dir2 + "/policy_preprocessor_step_3_normalizer_processor.safetensors");
  ExpectError(LoadStatus(dir2), StatusCode::kNotFound, {"policy_preprocessor_step_3_normalizer_processor.safetensors"});
}

TEST(ActBadInput, LegacyLayoutAndBf16Load) {
  auto spec = SmallSpec();
  spec.legacy_layout = true;
  spec.bf16 = true;
  const std::string dir = MakeCheckpoint("legacy_bf16", spec);
  auto m = ActModel::Load(dir, ActOptions{});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_NE((*m)->normalizer().source().find("LeRobot <= 0.3"), std::string::npos);
}

TEST(ActBadInput, BadObservations) {
  const std::string dir = MakeCheckpoint("obs");
  auto m = ActModel::Load(dir, ActOptions{});
  ASSERT_TRUE(m.ok());
  std::vector<uint8_t> img(64 * 96 * 3, 10), small(32 * 32 * 3, 10);
  float state[6] = {0, 0, 0, 0, 0, 0};
  std::vector<float> out(60);
  models::act::ActObservation one_cam{{{img.data(), 64, 96}}, state, nullptr};
  ExpectError((*m)->Predict(one_cam, out.data(), nullptr), StatusCode::kInvalidArgument, {"2 camera image(s), got 1"});
  models::act::ActObservation wrong_size{{{img.data(), 64, 96}, {small.data(), 32, 32}}, state, nullptr};
  ExpectError((*m)->Predict(wrong_size, out.data(), nullptr), StatusCode::kInvalidArgument,
              {"observation.images.gripper", "32x32", "64x96"});
  models::act::ActObservation no_state{{{img.data(), 64, 96}, {img.data(), 64, 96}}, nullptr, nullptr};
  ExpectError((*m)->Predict(no_state, out.data(), nullptr), StatusCode::kInvalidArgument, {"observation.state is required"});
  state[3] = std::nanf("");
  models::act::ActObservation nan_state{{{img.data(), 64, 96}, {img.data(), 64, 96}}, state, nullptr};
  ExpectError((*m)->Predict(nan_state, out.data(), nullptr), StatusCode::kInvalidArgument, {"observation.state[3] is NaN"});
}

}  // namespace
}  // namespace embody
