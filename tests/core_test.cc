#include <gtest/gtest.h>

#include <cmath>

#include "core/arena.h"
#include "core/dtype.h"
#include "core/seeded.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "core/timer.h"

namespace embody {
namespace {

TEST(Status, OkIsFreeAndErrorsCarryContext) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  Status e = NotFound("model.safetensors: missing tensor 'x'").WithContext("loading ckpt");
  EXPECT_EQ(e.code(), StatusCode::kNotFound);
  EXPECT_EQ(e.ToString(), "NotFound: loading ckpt: model.safetensors: missing tensor 'x'");
}

TEST(Status, ResultFromOkStatusIsInternal) {
  Result<int> r(Status::Ok());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to even (1.0).
  EXPECT_EQ(F32ToBf16(1.0f + 0x1p-8f), 0x3f80);
  EXPECT_EQ(F32ToBf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(Bf16ToF32(0xc000), -2.0f);
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(std::nanf("")))));
}

TEST(DType, F16RoundTrip) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 0x1p-24f, 0.333251953125f})
    EXPECT_EQ(F16ToF32(F32ToF16(v)), v) << v;
  EXPECT_TRUE(std::isinf(F16ToF32(F32ToF16(1e6f))));
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
}

TEST(Tensor, ViewsReshapeAndConvert) {
  Tensor t = Tensor::Zeros(DType::kF32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.stride(0), 3);
  Tensor r = t.Reshape({3, 2});
  EXPECT_EQ(r.raw(), t.raw());
  uint16_t half[2] = {0x3f80, 0x4000};
  Tensor b = Tensor::View(half, DType::kBF16, {2}).ToF32();
  EXPECT_EQ(b.data<float>()[1], 2.0f);
  EXPECT_EQ(Shape({3, 480, 640}).ToString(), "[3, 480, 640]");
}

TEST(Arena, PlansThenHandsOutAlignedBuffers) {
  Arena a;
  const size_t x = a.Reserve(10), y = a.Reserve(100);
  a.Commit();
  EXPECT_EQ(y, 64u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.At(x)) % 64, 0u);
  EXPECT_EQ(a.bytes(), 64u + 128u);
}

TEST(ThreadPool, CoversTheRangeOnce) {
  ThreadPool pool(2);
  std::vector<int> hits(1000, 0);
  pool.ParallelFor(1000, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
  });
  for (int h : hits) EXPECT_EQ(h, 1);
  EXPECT_GE(AvailableCores(), 1);
}

TEST(Timer, MedianAndP90LikeNumpy) {
  LatencySummary s = Summarize({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(s.median_ms, 3.0);
  EXPECT_DOUBLE_EQ(s.p90_ms, 4.6);
  EXPECT_DOUBLE_EQ(s.min_ms, 1.0);
}

// Vectors printed by `tools/golden/seeded.py --selftest` (the numpy twin).
TEST(Seeded, MatchesTheNumpyImplementation) {
  std::vector<float> w(64 * 3 * 7 * 7);
  seeded::FillWeight("model.backbone.conv1.weight", {64, 3, 7, 7}, 0, w.data());
  EXPECT_EQ(seeded::Fnv1a64(w.data(), w.size() * 4), 0x57e1eec10dda9af7ull);
  std::vector<uint16_t> b(w.size());
  for (size_t i = 0; i < w.size(); ++i) b[i] = F32ToBf16(w[i]);
  EXPECT_EQ(seeded::Fnv1a64(b.data(), b.size() * 2), 0xd8a9679acf0da15full);
  float v[64];
  seeded::FillWeight("model.backbone.bn1.running_var", {64}, 0, v);
  EXPECT_EQ(v[0], 0.8997598886489868f);
  seeded::FillWeight("model.backbone.bn1.weight", {64}, 0, v);
  EXPECT_EQ(v[0], 0.9696945548057556f);
  std::vector<uint8_t> img(480 * 640 * 3);
  seeded::FillImage(0, "observation.images.top", 480, 640, img.data());
  EXPECT_EQ(seeded::Fnv1a64(img.data(), img.size()), 0x505b8518fb5f9deeull);
  float s[6];
  seeded::FillState(0, 6, s);
  EXPECT_EQ(s[0], -2.6820006370544434f);
  seeded::FillStat("observation.state", "std", 6, s);
  EXPECT_EQ(s[5], 0.6685379147529602f);
}

}  // namespace
}  // namespace embody
