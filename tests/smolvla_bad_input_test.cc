// SmolVLA: bad checkpoints and bad inputs give clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "models/smolvla/smolvla_model.h"
#include "models/smolvla/smolvla_seeded_checkpoint.h"
#include "support/golden_checkpoint.h"

namespace embody {
namespace {

namespace fs = std::filesystem;
using models::smolvla::SmolVlaModel;

models::smolvla::SeededSmolVlaSpec TinySpec() {
  models::smolvla::SeededSmolVlaSpec s;
  s.cameras = {"top", "wrist"};
  s.height = 48;
  s.width = 64;
  s.chunk_size = s.n_action_steps = 5;
  s.num_steps = 3;
  s.num_vlm_layers = 2;
  auto& v = s.vlm;
  v.vision = {32, 1, 2, 64, 16, 64, 1e-6f};
  v.text = {32, 4, 4, 2, 8, 64, 49280, 1e-5f};
  v.scale_factor = 2;
  s.tokenizer_dir = testing::SharedDataDir() + "/smolvlm2-tokenizer";
  return s;
}

std::string MakeCheckpoint(const std::string& name) {
  const std::string dir = testing::FreshTempDir(name);
  const Status st = models::smolvla::WriteSeededSmolVlaCheckpoint(dir, TinySpec());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return dir;
}

void ExpectError(const Status& s, StatusCode code, std::initializer_list<const char*> fragments) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const char* f : fragments) EXPECT_NE(s.message().find(f), std::string::npos) << "missing '" << f << "' in: " << s.ToString();
}

struct Inputs {
  std::vector<uint8_t> a = std::vector<uint8_t>(48 * 64 * 3, 100), b = std::vector<uint8_t>(30 * 90 * 3, 50);
  std::vector<models::smolvla::CameraImage> frames{{a.data(), 48, 64}, {b.data(), 30, 90}};
  float state[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
};

TEST(SmolVlaBadInput, TinySeededCheckpointRunsBlocksSeparately) {
  auto m = SmolVlaModel::Load(MakeCheckpoint("sv_ok"), {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Inputs in;
  std::vector<float> actions(5 * 6), again(5 * 6);
  ExpectError((*m)->Denoise(nullptr, actions.data(), nullptr), StatusCode::kFailedPrecondition, {"Prefill"});
  ASSERT_TRUE((*m)->EncodeImages(in.frames).ok());
  ASSERT_TRUE((*m)->Prefill("put the tea bag in the mug", in.state).ok());
  std::vector<float> noise(5 * 32, 0.5f);
  ASSERT_TRUE((*m)->Denoise(noise.data(), actions.data(), nullptr).ok());
  // The expert re-runs on the cached prefix and, with the same noise, gives the same chunk.
  ASSERT_TRUE((*m)->Denoise(noise.data(), again.data(), nullptr).ok());
  EXPECT_EQ(actions, again);
  for (float a : actions) EXPECT_TRUE(std::isfinite(a));
}

TEST(SmolVlaBadInput, MissingTokenizer) {
  const std::string dir = MakeCheckpoint("sv_no_tok");
  fs::remove_all(dir + "/tokenizer");
  ExpectError(SmolVlaModel::Load(dir, {}).status(), StatusCode::kNotFound, {"tokenizer.json"});
}

TEST(SmolVlaBadInput, BackboneConfigDisagreesWithWeights) {
  const std::string dir = MakeCheckpoint("sv_bad_vlm");
  auto j = io::ReadJsonFile(dir + "/vlm_config.json");
  ASSERT_TRUE(j.ok());
  (*j)["text_config"]["intermediate_size"] = 96;
  ASSERT_TRUE(io::WriteJsonFile(dir + "/vlm_config.json", *j).ok());
  ExpectError(SmolVlaModel::Load(dir, {}).status(), StatusCode::kInvalidArgument,
              {"vlm_config.json", "does not match the weights", "mlp.gate_proj.weight' has shape [64, 32], expected [96, 32]"});
}

TEST(SmolVlaBadInput, WrongConfigType) {
  const std::string dir = MakeCheckpoint("sv_type");
  auto j = io::ReadJsonFile(dir + "/config.json");
  (*j)["type"] = "pi0";
  ASSERT_TRUE(io::WriteJsonFile(dir + "/config.json", *j).ok());
  ExpectError(SmolVlaModel::Load(dir, {}).status(), StatusCode::kInvalidArgument, {"\"pi0\"", "smolvla"});
}

TEST(SmolVlaBadInput, BadInputs) {
  auto m = SmolVlaModel::Load(MakeCheckpoint("sv_inputs"), {});
  ASSERT_TRUE(m.ok());
  Inputs in;
  auto three = in.frames;
  three.push_back(in.frames[0]);
  ExpectError((*m)->EncodeImages(three), StatusCode::kInvalidArgument, {"2 camera image(s)", "observation.images.wrist", "got 3"});
  ExpectError((*m)->Prefill("x", in.state), StatusCode::kFailedPrecondition, {"EncodeImages"});
  ASSERT_TRUE((*m)->EncodeImages(in.frames).ok());
  ExpectError((*m)->Prefill("", in.state), StatusCode::kInvalidArgument, {"task text is empty"});
  std::string long_task;
  for (int i = 0; i < 60; ++i) long_task += "move ";
  ExpectError((*m)->Prefill(long_task, in.state), StatusCode::kInvalidArgument, {"allows 48", "drop the first"});
  in.state[2] = std::nanf("");
  ExpectError((*m)->Prefill("pick", in.state), StatusCode::kInvalidArgument, {"observation.state[2] is NaN"});
}

TEST(SmolVlaBadInput, LongTaskTruncatesWhenAllowed) {
  models::smolvla::SmolVlaOptions opt;
  opt.truncate_long_tasks = true;
  auto m = SmolVlaModel::Load(MakeCheckpoint("sv_trunc"), opt);
  ASSERT_TRUE(m.ok());
  Inputs in;
  ASSERT_TRUE((*m)->EncodeImages(in.frames).ok());
  std::string long_task = "move";
  for (int i = 0; i < 60; ++i) long_task += " move";
  ASSERT_TRUE((*m)->Prefill(long_task, in.state).ok());
  EXPECT_EQ((*m)->last_token_ids().size(), 48u);
  EXPECT_EQ((*m)->last_token_ids().back(), 198) << "left truncation keeps the trailing newline";
}

// A bf16 or f16 checkpoint must behave exactly like an f32 one holding the same (rounded) values.
TEST(SmolVlaBadInput, Bf16AndF16CheckpointsMatchTheirF32Twins) {
  const std::string src = MakeCheckpoint("sv_dtype_src");
  auto file = io::SafetensorsFile::Open(src + "/model.safetensors");
  ASSERT_TRUE(file.ok());
  std::vector<float> reference;
  for (DType low : {DType::kBF16, DType::kF16}) {
    const std::string low_dir = testing::FreshTempDir(low == DType::kBF16 ? "sv_bf16" : "sv_f16");
    const std::string twin_dir = low_dir + "_f32twin";
    fs::remove_all(twin_dir);
    fs::copy(src, low_dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::copy(src, twin_dir, fs::copy_options::recursive);
    std::vector<Tensor> keep;
    io::SafetensorsWriter w_low, w_twin;
    for (const auto& e : (*file)->entries()) {
      Tensor f = *(*file)->ReadF32(e.name);
      Tensor lowt = Tensor::Empty(low, e.shape), twin = Tensor::Empty(DType::kF32, e.shape);
      for (int64_t i = 0; i < f.numel(); ++i) {
        const uint16_t h = low == DType::kBF16 ? F32ToBf16(f.data<float>()[i]) : F32ToF16(f.data<float>()[i]);
        lowt.data<uint16_t>()[i] = h;
        twin.data<float>()[i] = low == DType::kBF16 ? Bf16ToF32(h) : F16ToF32(h);
      }
      keep.push_back(lowt);
      w_low.Add(e.name, keep.back());
      keep.push_back(twin);
      w_twin.Add(e.name, keep.back());
    }
    ASSERT_TRUE(w_low.Write(low_dir + "/model.safetensors").ok());
    ASSERT_TRUE(w_twin.Write(twin_dir + "/model.safetensors").ok());
    std::vector<std::vector<float>> outs;
    for (const std::string& dir : {low_dir, twin_dir}) {
      auto m = SmolVlaModel::Load(dir, {});
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      Inputs in;
      std::vector<float> noise(5 * 32, 0.25f), actions(5 * 6);
      ASSERT_TRUE((*m)->Predict(in.frames, "pick up the cube", in.state, noise.data(), actions.data(), nullptr).ok());
      outs.push_back(actions);
    }
    EXPECT_EQ(outs[0], outs[1]) << DTypeName(low);
  }
}

}  // namespace
}  // namespace embody
