// ACT and SmolVLA behind runtime::Policy give the model's own chunk and name their blocks.
#include <gtest/gtest.h>

#include <vector>

#include "runtime/async/act_chunk_policy.h"
#include "runtime/async/smolvla_chunk_policy.h"
#include "support/golden_checkpoint.h"

namespace embody::runtime {
namespace {

std::vector<uint8_t> Gray(int h, int w) { return std::vector<uint8_t>(static_cast<size_t>(h) * w * 3, 128); }

TEST(ActChunkPolicy, MatchesTheModelAndReportsBlocks) {
  auto dir = testing::MaterializeGoldenCase("act", "small_prenorm");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  models::act::ActOptions opt;
  opt.threads = 1;
  auto model = models::act::ActModel::Load(*dir, opt);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto reference = models::act::ActModel::Load(*dir, opt);
  ASSERT_TRUE(reference.ok());
  const auto& cfg = (*model)->config();
  std::vector<std::vector<uint8_t>> pixels;
  PolicyObservation obs;
  models::act::ActObservation ref_obs;
  for (size_t c = 0; c < cfg.num_cameras(); ++c) {
    const auto& shape = cfg.camera(c).shape;  // C, H, W
    pixels.push_back(Gray(static_cast<int>(shape[1]), static_cast<int>(shape[2])));
    obs.images.push_back({pixels.back().data(), static_cast<int>(shape[1]), static_cast<int>(shape[2])});
    ref_obs.images.push_back({pixels.back().data(), static_cast<int>(shape[1]), static_cast<int>(shape[2])});
  }
  std::vector<float> state(cfg.state_dim(), 0.5f);
  obs.state = ref_obs.state = state.empty() ? nullptr : state.data();

  ActChunkPolicy policy(std::move(*model));
  std::vector<float> chunk(policy.chunk_size() * policy.action_dim()), expected(chunk.size());
  ASSERT_TRUE(policy.PredictChunk(obs, chunk.data()).ok());
  ASSERT_TRUE((*reference)->Predict(ref_obs, expected.data(), nullptr).ok());
  EXPECT_EQ(chunk, expected);
  const auto& lat = policy.last_latencies();
  ASSERT_EQ(lat.size(), cfg.num_cameras() + 2);
  EXPECT_EQ(lat.back().name, "decoder");
  EXPECT_GT(policy.last_total_ms(), 0);

  obs.images.pop_back();
  EXPECT_EQ(policy.PredictChunk(obs, chunk.data()).code(), StatusCode::kInvalidArgument);
}

TEST(SmolVlaChunkPolicy, MatchesTheModelAndReportsBlocks) {
  auto dir = testing::MaterializeGoldenCase("smolvla", "tiny");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  models::smolvla::SmolVlaOptions opt;
  opt.threads = 1;
  opt.tokenizer_path = testing::SharedDataDir() + "/smolvlm2-tokenizer/tokenizer.json";
  auto model = models::smolvla::SmolVlaModel::Load(*dir, opt);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto reference = models::smolvla::SmolVlaModel::Load(*dir, opt);
  ASSERT_TRUE(reference.ok());
  const auto& cfg = (*model)->config();
  std::vector<std::vector<uint8_t>> pixels;
  PolicyObservation obs;
  std::vector<models::smolvla::CameraImage> frames;
  for (size_t c = 0; c < cfg.num_cameras(); ++c) {
    pixels.push_back(Gray(48, 64));
    obs.images.push_back({pixels.back().data(), 48, 64});
    frames.push_back({pixels.back().data(), 48, 64});
  }
  std::vector<float> state(cfg.state_dim(), 0.25f);
  obs.state = state.data();
  obs.task = "put the tea bag in the mug";

  SmolVlaChunkPolicy policy(std::move(*model), "unused default");
  std::vector<float> chunk(policy.chunk_size() * policy.action_dim()), expected(chunk.size());
  // fixed noise on both sides: the model's seeded generator advances per call
  ASSERT_TRUE(policy.PredictChunk(obs, chunk.data()).ok());
  ASSERT_TRUE((*reference)->Predict(frames, std::string(obs.task), state.data(), nullptr, expected.data(), nullptr).ok());
  EXPECT_EQ(chunk, expected);
  const auto& lat = policy.last_latencies();
  ASSERT_EQ(lat.size(), cfg.num_cameras() + 2);
  EXPECT_EQ(lat[lat.size() - 2].name, "llm");
  EXPECT_GT(policy.last_total_ms(), 0);
}

}  // namespace
}  // namespace embody::runtime
