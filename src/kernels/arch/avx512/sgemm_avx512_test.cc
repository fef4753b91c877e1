// The AVX-512 GEMM against a double-accumulation reference over shapes that hit every tile edge
// (M remainders of the 14-row kernel, N remainders of the 32-column panels and of its 16-column
// halves, K remainders of the K blocks), strided A and C, bias and accumulation, and large cases.
//
// Tolerance: with inputs uniform in [-1, 1], f32 accumulation over K terms drifts by about
// eps * sqrt(K) * (typical partial sum) in a random walk; we require
//   max |C - ref| <= 1e-6 * sqrt(K) * max(1, max |ref|)
// (1e-6 ~ 8 f32 ulps at 1.0). A wrong element (a skipped k, a missed bias, a stale accumulator)
// is off by ~O(1) and fails by orders of magnitude.
#include "kernels/arch/avx512/sgemm_avx512.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

namespace embody::kernels::avx512 {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

struct Case {
  int64_t m, k, n;
  int64_t lda = 0, ldc = 0;  // 0: dense
  bool bias = false, accumulate = false;
};

std::string Name(const Case& c) {
  return std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n) + " lda " +
         std::to_string(c.lda) + " ldc " + std::to_string(c.ldc) + (c.bias ? " bias" : "") +
         (c.accumulate ? " acc" : "");
}

// Runs one case and checks every element of C, including that the padding between rows of C
// (columns n..ldc) is untouched.
void Check(Case c) {
  if (!c.lda) c.lda = c.k;
  if (!c.ldc) c.ldc = c.n;
  const auto a = Random(static_cast<size_t>(c.m * c.lda), 1);
  const auto w = Random(static_cast<size_t>(c.n * c.k), 2);
  const auto b = Random(static_cast<size_t>(c.n), 3);
  const auto c0 = Random(static_cast<size_t>(c.m * c.ldc), 4);
  std::vector<float> out = c0;
  const PackedWeights pw = PackedWeights::Pack(w.data(), c.n, c.k);
  ASSERT_EQ(pw.n(), c.n);
  ASSERT_EQ(pw.k(), c.k);
  Gemm(a.data(), c.m, c.lda, pw, c.bias ? b.data() : nullptr, c.accumulate, out.data(), c.ldc);

  double max_ref = 0, max_err = 0;
  int64_t bad_i = -1, bad_j = -1;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double s = 0;
      for (int64_t t = 0; t < c.k; ++t)
        s += static_cast<double>(a[i * c.lda + t]) * static_cast<double>(w[j * c.k + t]);
      if (c.bias) s += b[j];
      if (c.accumulate) s += c0[i * c.ldc + j];
      const double err = std::abs(s - out[i * c.ldc + j]);
      max_ref = std::max(max_ref, std::abs(s));
      if (!(err <= max_err)) {  // also catches NaN
        max_err = std::isnan(err) ? 1e30 : err;
        bad_i = i;
        bad_j = j;
      }
    }
    for (int64_t j = c.n; j < c.ldc; ++j)
      ASSERT_EQ(out[i * c.ldc + j], c0[i * c.ldc + j]) << Name(c) << ": padding written at " << i << "," << j;
  }
  const double tol = 1e-6 * std::sqrt(static_cast<double>(c.k)) * std::max(1.0, max_ref);
  EXPECT_LE(max_err, tol) << Name(c) << ": worst at (" << bad_i << ", " << bad_j << "), max |ref| " << max_ref;
}

class SgemmAvx512 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Available()) GTEST_SKIP() << "no AVX-512F/BW/VL on this CPU";
  }
};

TEST_F(SgemmAvx512, EveryRowRemainder) {
  // M 1..37 covers 0, 1 and 2 full 14-row slivers plus every remainder; N crosses a panel edge.
  for (int64_t m = 1; m <= 37; ++m) Check({m, 19, 45});
}

TEST_F(SgemmAvx512, ColumnEdges) {
  // N below, at and above the 16-column half-panel and the 32-column panel.
  for (int64_t n : {1, 6, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100})
    for (int64_t m : {1, 5, 14, 29}) Check({m, 37, n});
}

TEST_F(SgemmAvx512, KBlockEdges) {
  // K = 1, tiny, and around the K block size (384 and its multiples, equal splits).
  for (int64_t k : {1, 2, 7, 31, 383, 384, 385, 720, 769, 1153})
    for (int64_t m : {3, 14, 30}) Check({m, k, 70});
}

TEST_F(SgemmAvx512, LeadingDimensionsBiasAccumulate) {
  for (bool bias : {false, true})
    for (bool acc : {false, true}) {
      Check({23, 50, 40, 64, 48, bias, acc});
      Check({14, 33, 32, 33, 33, bias, acc});
      Check({1, 512, 6, 515, 9, bias, acc});
      Check({37, 400, 97, 1024, 100, bias, acc});
    }
}

TEST_F(SgemmAvx512, UnpackedAndPackedA) {
  // Full 14-row slivers broadcast from A itself unless lda maps the rows onto the same L1 sets
  // (multiples of 1024 floats), where A is packed first; both paths, with row remainders, K
  // remainders (kb % 16) and several K blocks.
  for (int64_t lda : {0, 1024, 1040, 2048, 3072})
    for (int64_t k : {100, 777})
      if (lda == 0 || lda >= k) Check({33, k, 70, lda, 0, true, false});
  Check({47, 2048, 64});
  Check({29, 3072, 40, 0, 0, false, true});
}

TEST_F(SgemmAvx512, ModelShapes) {
  Check({902, 512, 3200, 0, 0, true, false});
  Check({241, 960, 1600, 0, 0, true, true});
  Check({50, 720, 1600});
  Check({1, 3072, 768, 0, 0, true, false});
  Check({64, 12288, 32});
  Check({77, 32, 6, 0, 0, true, false});
}

TEST_F(SgemmAvx512, ThreadCounts) {
  // The static partition for 1..8 threads (more threads than cores still gives correct results),
  // including grids that split both M and N.
  const int saved = omp_get_max_threads();
  for (int t : {1, 2, 3, 4, 6, 8}) {
    omp_set_num_threads(t);
    Check({300, 256, 1000, 0, 0, true, false});
    Check({2, 512, 100});
    Check({130, 96, 33});
  }
  omp_set_num_threads(saved);
}

TEST_F(SgemmAvx512, RepeatedCallsAreDeterministic) {
  const int64_t m = 100, k = 300, n = 200;
  const auto a = Random(static_cast<size_t>(m * k), 5), w = Random(static_cast<size_t>(n * k), 6);
  const PackedWeights pw = PackedWeights::Pack(w.data(), n, k);
  std::vector<float> c1(static_cast<size_t>(m * n)), c2(c1.size(), 1.f);
  Gemm(a.data(), m, k, pw, nullptr, false, c1.data(), n);
  Gemm(a.data(), m, k, pw, nullptr, false, c2.data(), n);
  EXPECT_EQ(c1, c2);
}

}  // namespace
}  // namespace embody::kernels::avx512
