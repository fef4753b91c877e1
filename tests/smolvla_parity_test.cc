// SmolVLA parity with LeRobot 0.4.4 (tools/golden/smolvla_golden.py, the real LeRobot with a
// locally built SmolVLM config, the genuine SmolVLM2 tokenizer, seeded weights and a fixed noise
// tensor). Checked block by block: tokens, preprocessed images, vision tokens, prefix KV cache,
// first velocity, and the final chunk (max abs error <= 1e-3, issue 3).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/seeded.h"
#include "models/smolvla/smolvla_model.h"
#include "support/golden_checkpoint.h"

namespace embody {
namespace {

using models::smolvla::SmolVlaModel;

constexpr double kChunkTolerance = 1e-3;
constexpr double kBlockRelTolerance = 1e-4;  // max |diff| / max |reference| on intermediates

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

// max |ours - theirs| / max |theirs| over a [rows][cols] JSON array against a row-major buffer.
double RelErr(const io::Json& theirs, const float* ours, int64_t ld) {
  double err = 0, mag = 1e-12;
  for (size_t r = 0; r < theirs.size(); ++r)
    for (size_t c = 0; c < theirs[r].size(); ++c) {
      const double t = theirs[r][c].get<double>();
      err = std::max(err, std::abs(t - ours[static_cast<int64_t>(r) * ld + static_cast<int64_t>(c)]));
      mag = std::max(mag, std::abs(t));
    }
  return err / mag;
}

class SmolVlaParity : public ::testing::TestWithParam<const char*> {};

TEST_P(SmolVlaParity, MatchesLeRobotBlockByBlock) {
  const std::string name = GetParam();
  auto dir = testing::MaterializeGoldenCase("smolvla", name);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  std::filesystem::create_directories(*dir + "/tokenizer");
  std::filesystem::copy_file(testing::SharedDataDir() + "/smolvlm2-tokenizer/tokenizer.json", *dir + "/tokenizer/tokenizer.json");
  auto expected = io::ReadJsonFile(testing::TestdataDir() + "/golden/smolvla/" + name + "/expected.json");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  const io::Json& e = *expected;

  models::smolvla::SmolVlaOptions opt;
  opt.threads = 2;
  opt.position_ids = models::smolvla::SiglipPositionIds::kTransformersFloat32;  // what LeRobot 0.4.4 ran
  auto loaded = SmolVlaModel::Load(*dir, opt);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  SmolVlaModel& m = **loaded;
  const auto& c = m.config();
  const auto& blocks = e["blocks"];
  if (blocks.contains("vision_position_ids")) {
    EXPECT_EQ(m.vision_position_ids(), blocks["vision_position_ids"].get<std::vector<int32_t>>());
  }

  const int64_t d = c.vlm.text.hidden, a_dim = c.action_dim(), max_a = c.max_action_dim;
  double worst_chunk = 0;
  int forwards = 0;
  for (const auto& step : e["steps"]) {
    const int t = step["t"].get<int>();
    if (!step["model_ran"].get<bool>()) continue;
    ++forwards;
    std::vector<std::vector<uint8_t>> pixels(c.num_cameras());
    std::vector<models::smolvla::CameraImage> frames;
    for (size_t i = 0; i < c.num_cameras(); ++i) {
      const auto& cam = c.camera(i);
      const int h = static_cast<int>(cam.shape[1]), w = static_cast<int>(cam.shape[2]);
      pixels[i].resize(static_cast<size_t>(h * w * 3));
      seeded::FillImage(t, cam.key, h, w, pixels[i].data());
      ASSERT_EQ(Hex(seeded::Fnv1a64(pixels[i].data(), pixels[i].size())), step["image_fnv"][cam.key].get<std::string>());
      frames.push_back({pixels[i].data(), h, w});
    }
    const std::vector<float> state = step["state"].get<std::vector<float>>();
    std::vector<float> noise;
    for (const auto& row : step["noise"])
      for (const auto& v : row) noise.push_back(v.get<float>());
    ASSERT_EQ(static_cast<int64_t>(noise.size()), int64_t{c.chunk_size} * max_a);
    std::vector<float> normalized(noise.size()), actions(static_cast<size_t>(c.chunk_size * a_dim));
    ASSERT_TRUE(m.EncodeImages(frames).ok());
    ASSERT_TRUE(m.Prefill(e["task"].get<std::string>(), state.data()).ok());
    if (t == 0) {
      // Tokens, exactly.
      std::vector<int32_t> ids;
      const auto& tok = e["tokens"];
      for (size_t i = 0; i < tok["ids"].size(); ++i)
        if (tok["attention_mask"][i].get<int>()) ids.push_back(tok["ids"][i].get<int32_t>());
      EXPECT_EQ(m.last_token_ids(), ids);
      EXPECT_EQ(m.prefix_cache().length, blocks["prefix"]["valid_length"].get<int64_t>());
      // Preprocessed images: padding geometry and values.
      for (size_t i = 0; i < c.num_cameras(); ++i) {
        const auto& img = blocks["images"][i];
        const auto& ours = m.last_preprocessed_image(i);
        const int64_t size = c.vlm.vision.image_size;
        const int64_t row = img["first_valid_row"].get<int64_t>();
        const auto first = img["channel0_first_valid_row_first16"].get<std::vector<double>>();
        for (size_t k = 0; k < first.size(); ++k)
          EXPECT_NEAR(ours[static_cast<size_t>(row * size) + k], first[k], 1e-6) << "camera " << i << " pixel " << k;
        double sum = 0;
        for (float v : ours) sum += v;
        EXPECT_NEAR(sum, img["sum"].get<double>(), 1e-3 * std::max(1.0, std::abs(img["sum"].get<double>())));
      }
      // Vision tokens (scaled), per camera.
      for (size_t i = 0; i < c.num_cameras(); ++i) {
        const double err = RelErr(blocks["vision_tokens"][i]["values"],
                                  m.image_tokens().data() + static_cast<int64_t>(i) * c.tokens_per_image() * d, d);
        EXPECT_LE(err, kBlockRelTolerance) << "vision tokens of camera " << i;
      }
      // Prefix KV cache. LeRobot's cache keeps pad rows (masked); ours drops them.
      const auto pad_mask = blocks["prefix"]["pad_mask"].get<std::vector<int>>();
      for (const auto& layer : blocks["kv_cache"]) {
        const size_t l = layer["layer"].get<size_t>();
        io::Json keys = io::Json::array(), values = io::Json::array();
        for (size_t r = 0; r < layer["key"].size() && r < pad_mask.size(); ++r)
          if (pad_mask[r]) {
            keys.push_back(layer["key"][r]);
            values.push_back(layer["value"][r]);
          }
        const double ek = RelErr(keys, m.prefix_cache().k[l].data(), m.prefix_cache().kv_dim);
        const double ev = RelErr(values, m.prefix_cache().v[l].data(), m.prefix_cache().kv_dim);
        EXPECT_LE(ek, kBlockRelTolerance) << "prefix K, layer " << l;
        EXPECT_LE(ev, kBlockRelTolerance) << "prefix V, layer " << l;
      }
    }
    ASSERT_TRUE(m.Denoise(noise.data(), actions.data(), normalized.data()).ok());
    if (t == 0) {
      const double ev = RelErr(blocks["first_denoise"]["v_t"], m.first_velocity().data(), max_a);
      EXPECT_LE(ev, kBlockRelTolerance) << "velocity of the first denoising step";
    }
    const auto& chunk = step["chunk_normalized"];
    for (size_t r = 0; r < chunk.size(); ++r)
      for (size_t j = 0; j < chunk[r].size(); ++j)
        worst_chunk = std::max(worst_chunk, std::abs(chunk[r][j].get<double>() - normalized[r * static_cast<size_t>(max_a) + j]));
    // The executed action (first of the chunk), robot units, relative to the action std.
    const auto& std_dev = e["stats"]["action"]["std"];
    for (int64_t j = 0; j < a_dim; ++j)
      EXPECT_LE(std::abs(actions[static_cast<size_t>(j)] - step["action"][static_cast<size_t>(j)].get<double>()) /
                    std_dev[static_cast<size_t>(j)].get<double>(),
                kChunkTolerance);
  }
  EXPECT_GT(forwards, 0);
  EXPECT_LE(worst_chunk, kChunkTolerance);
  const auto& t = m.last_times();
  std::printf("[ parity ] smolvla/%s: max |err| chunk %.2e (normalized); vision %.1f ms, llm %.1f ms, expert %.1f ms\n",
              name.c_str(), worst_chunk, t.vision_ms.empty() ? 0.0 : t.vision_ms[0], t.llm_ms, t.expert_ms);
}

INSTANTIATE_TEST_SUITE_P(Golden, SmolVlaParity, ::testing::Values("tiny", "tiny_padded", "full_width"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

}  // namespace
}  // namespace embody
