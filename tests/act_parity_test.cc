// ACT parity with LeRobot 0.4.4: every golden case in testdata/golden/act was produced by
// tools/golden/act_golden.py running the real LeRobot on the same seeded weights and inputs.
// Tolerance: max abs error 1e-4 on normalized actions (issue 2).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/seeded.h"
#include "runtime/act_policy.h"
#include "support/golden_checkpoint.h"

namespace embody {
namespace {

constexpr double kNormalizedTolerance = 1e-4;

struct CaseParam {
  const char* name;
  kernels::Backend backend;
  bool winograd = true;
};

void PrintTo(const CaseParam& p, std::ostream* os) { *os << p.name << "/" << kernels::BackendName(p.backend); }

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

class ActParity : public ::testing::TestWithParam<CaseParam> {};

TEST_P(ActParity, MatchesLeRobot) {
  const CaseParam p = GetParam();
  auto dir = testing::MaterializeGoldenCase("act", p.name);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  auto expected = io::ReadJsonFile(testing::TestdataDir() + "/golden/act/" + p.name + "/expected.json");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();

  models::act::ActOptions opt;
  opt.backend = p.backend;
  opt.threads = 2;
  opt.winograd = p.winograd;
  auto model = models::act::ActModel::Load(*dir, opt);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  runtime::ActPolicy policy(std::move(*model));
  const auto& c = policy.model().config();
  const int64_t a_dim = c.action_dim();

  double worst_chunk = 0, worst_action = 0;
  int forwards = 0;
  for (const auto& step : (*expected)["steps"]) {
    const int t = step["t"].get<int>();
    std::vector<std::vector<uint8_t>> frames(c.num_cameras());
    models::act::ActObservation obs;
    for (size_t i = 0; i < c.num_cameras(); ++i) {
      const auto& cam = c.camera(i);
      const int h = static_cast<int>(cam.shape[1]), w = static_cast<int>(cam.shape[2]);
      frames[i].resize(static_cast<size_t>(h * w * 3));
      seeded::FillImage(t, cam.key, h, w, frames[i].data());
      ASSERT_EQ(Hex(seeded::Fnv1a64(frames[i].data(), frames[i].size())), step["image_fnv"][cam.key].get<std::string>())
          << "seeded image differs from the one LeRobot saw: " << cam.key;
      obs.images.push_back({frames[i].data(), h, w});
    }
    std::vector<float> state;
    if (c.state_dim() > 0) {
      state = step["state"].get<std::vector<float>>();
      std::vector<float> regenerated(state.size());
      seeded::FillState(t, static_cast<int>(state.size()), regenerated.data());
      ASSERT_EQ(state, regenerated) << "seeded state differs at step " << t;
      obs.state = state.data();
    }
    std::vector<float> action(static_cast<size_t>(a_dim));
    ASSERT_TRUE(policy.SelectAction(obs, action.data()).ok());
    ASSERT_EQ(policy.last_ran_model(), step["model_ran"].get<bool>()) << "queue semantics differ at step " << t;
    if (step.contains("chunk_normalized") && !step["chunk_normalized"].is_null()) {
      ++forwards;
      const auto& ours = policy.last_chunk_normalized();
      const auto& theirs = step["chunk_normalized"];
      ASSERT_EQ(static_cast<int64_t>(theirs.size()), c.chunk_size);
      for (int64_t i = 0; i < c.chunk_size; ++i)
        for (int64_t j = 0; j < a_dim; ++j)
          worst_chunk = std::max(worst_chunk, std::abs(static_cast<double>(ours[static_cast<size_t>(i * a_dim + j)]) -
                                                       theirs[static_cast<size_t>(i)][static_cast<size_t>(j)].get<double>()));
    }
    // The executed action, compared in normalized units (robot units scaled by the action std).
    const auto& std_dev = (*expected)["stats"]["action"]["std"];
    const auto& theirs = step["action"];
    for (int64_t j = 0; j < a_dim; ++j) {
      const double err = std::abs(action[static_cast<size_t>(j)] - theirs[static_cast<size_t>(j)].get<double>()) /
                         std_dev[static_cast<size_t>(j)].get<double>();
      worst_action = std::max(worst_action, err);
    }
  }
  EXPECT_GT(forwards, 0);
  EXPECT_LE(worst_chunk, kNormalizedTolerance) << p.name;
  EXPECT_LE(worst_action, kNormalizedTolerance) << p.name;
  std::printf("[ parity ] act/%s (%s%s): max |err| chunk %.2e, executed actions %.2e (normalized units)\n", p.name,
              kernels::BackendName(p.backend), p.winograd ? "" : ", direct conv", worst_chunk, worst_action);
}

INSTANTIATE_TEST_SUITE_P(
    Golden, ActParity,
    ::testing::Values(CaseParam{"default_1cam", kernels::Backend::kOneDnn},
                      CaseParam{"three_cams", kernels::Backend::kOneDnn},
                      CaseParam{"stateless", kernels::Backend::kOneDnn},
                      CaseParam{"bf16", kernels::Backend::kOneDnn},
                      CaseParam{"legacy_layout", kernels::Backend::kOneDnn},
                      CaseParam{"temporal_ensemble", kernels::Backend::kOneDnn},
                      CaseParam{"small_prenorm", kernels::Backend::kOneDnn},
                      CaseParam{"small_prenorm", kernels::Backend::kReference},
                      CaseParam{"default_1cam", kernels::Backend::kOneDnn, false},
                      CaseParam{"three_cams", kernels::Backend::kOneDnn, false}),
    [](const ::testing::TestParamInfo<CaseParam>& info) {
      return std::string(info.param.name) + "_" + kernels::BackendName(info.param.backend) +
             (info.param.winograd ? "" : "_direct");
    });

}  // namespace
}  // namespace embody
