// int8 pipelines (int8_pipeline.h): the oneDNN convolution and max pool against the scalar
// reference for every fused epilogue the ACT backbone uses (u8/s8 sources, u8/f32 results,
// in-place u8/s8/f32 residuals, separate f32 residuals, ReLU, strides, odd channel counts), the
// reference against real-valued arithmetic, and the quantize / dequantize passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quant/int8_pipeline.h"

namespace embody::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// Random stored values of a tensor of type t.
std::vector<uint8_t> RandomStored(size_t n, PipelineType t, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<uint8_t> v(n * PipelineTypeBytes(t));
  if (t == PipelineType::kF32) {
    std::uniform_real_distribution<float> d(-60.f, 60.f);
    auto* f = reinterpret_cast<float*>(v.data());
    for (size_t i = 0; i < n; ++i) f[i] = d(gen);
  } else {
    std::uniform_int_distribution<int> d(t == PipelineType::kU8 ? 0 : -127, t == PipelineType::kU8 ? 255 : 127);
    for (auto& x : v) x = static_cast<uint8_t>(d(gen));
  }
  return v;
}

float At(const std::vector<uint8_t>& buf, size_t i, PipelineType t) {
  if (t == PipelineType::kU8) return buf[i];
  if (t == PipelineType::kS8) return static_cast<int8_t>(buf[i]);
  float f;
  std::memcpy(&f, buf.data() + i * 4, 4);
  return f;
}

struct Case {
  const char* name;
  int64_t in_c, out_c, h, w, kernel, stride, pad;
  bool relu;
  PipelineType src, dst;
  bool residual, in_place;
  PipelineType res;
};

void CheckCase(const Case& cs) {
  SCOPED_TRACE(cs.name);
  PipelineConvParams p;
  p.conv = ConvParams{cs.in_c, cs.out_c, cs.h, cs.w, cs.kernel, cs.stride, cs.pad, cs.relu, cs.residual, false};
  const int64_t kk = cs.in_c * cs.kernel * cs.kernel, oh = p.conv.out_h(), ow = p.conv.out_w();
  const size_t n_in = static_cast<size_t>(cs.in_c * cs.h * cs.w), n_out = static_cast<size_t>(cs.out_c * oh * ow);
  auto wf = Random(static_cast<size_t>(cs.out_c * kk), 1, -0.5f, 0.5f);
  for (int64_t i = 0; i < kk; ++i) wf[static_cast<size_t>(3 * kk + i)] = 0.0f;  // an all-zero channel
  const auto bias = Random(static_cast<size_t>(cs.out_c), 2, -1.f, 1.f);
  auto w = QuantizeWeights(WeightFormat::kInt8, cs.out_c, kk, wf.data());
  ASSERT_TRUE(w.ok());
  p.src = {cs.src, 0.02f};
  // Destination scale: about the largest result / 200, so a few values saturate.
  const float typical = 0.02f * 127.f * 0.25f * std::sqrt(static_cast<float>(kk));
  p.dst = {cs.dst, cs.dst == PipelineType::kF32 ? 1.0f : typical / 100.0f};
  p.residual_in_place = cs.in_place;
  p.residual = {cs.res, cs.in_place ? (cs.res == PipelineType::kF32 ? p.dst.scale : typical / 130.0f) : p.dst.scale};

  const auto src = RandomStored(n_in, cs.src, 3);
  const auto res = RandomStored(n_out, cs.residual ? cs.res : cs.dst, 4);
  auto ref = MakePipelineConv(Backend::kReference, p, *w, bias.data());
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  std::vector<uint8_t> y_ref(n_out * PipelineTypeBytes(cs.dst), 0);
  if (cs.residual && cs.in_place) y_ref = res;
  (*ref)->Run(src.data(), y_ref.data(), cs.residual ? (cs.in_place ? y_ref.data() : res.data()) : nullptr);

  // The reference against real arithmetic on the dequantized values (before rounding to the
  // destination type, so within half a unit plus float error).
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x = 0; x < ow; ++x)
      for (int64_t o = 0; o < cs.out_c; ++o) {
        double v = bias[static_cast<size_t>(o)];
        for (int64_t c = 0; c < cs.in_c; ++c)
          for (int64_t kh = 0; kh < cs.kernel; ++kh)
            for (int64_t kw = 0; kw < cs.kernel; ++kw) {
              const int64_t iy = y * cs.stride - cs.pad + kh, ix = x * cs.stride - cs.pad + kw;
              if (iy < 0 || iy >= cs.h || ix < 0 || ix >= cs.w) continue;
              const double q = At(src, static_cast<size_t>((iy * cs.w + ix) * cs.in_c + c), cs.src);
              const auto wi = static_cast<size_t>(o * kk + (c * cs.kernel + kh) * cs.kernel + kw);
              v += q * p.src.scale * static_cast<int8_t>(w->data[wi]) * w->scales[static_cast<size_t>(o)];
            }
        const size_t at = static_cast<size_t>((y * ow + x) * cs.out_c + o);
        if (cs.residual) v += At(res, at, cs.residual ? cs.res : cs.dst) * p.residual.scale;
        if (cs.relu) v = std::max(v, 0.0);
        double want = v / p.dst.scale;
        if (cs.dst == PipelineType::kU8) want = std::clamp(want, 0.0, 255.0);
        if (cs.dst == PipelineType::kS8) want = std::clamp(want, -128.0, 127.0);
        const double tol = cs.dst == PipelineType::kF32 ? 1e-4 * std::max(1.0, std::abs(want)) : 0.5 + 1e-3;
        ASSERT_NEAR(At(y_ref, at, cs.dst), want, tol) << "reference at (" << y << ", " << x << ", " << o << ")";
      }

  auto fast = MakePipelineConv(Backend::kOneDnn, p, *w, bias.data());
#ifdef EMBODY_KERNELS_NO_ONEDNN
  ASSERT_EQ(fast.status().code(), StatusCode::kUnimplemented);
#else
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ((*fast)->src_bytes(), src.size());
  EXPECT_EQ((*fast)->dst_bytes(), y_ref.size());
  std::vector<uint8_t> y(y_ref.size(), 0);
  if (cs.residual && cs.in_place) y = res;
  (*fast)->Run(src.data(), y.data(), cs.residual ? (cs.in_place ? y.data() : res.data()) : nullptr);
  // Same int32 sums and epilogue constants; oneDNN may fuse a multiply-add differently: at most
  // one unit apart on a rounding tie, and rarely.
  size_t off_by_one = 0;
  for (size_t i = 0; i < n_out; ++i) {
    const float a = At(y, i, cs.dst), b = At(y_ref, i, cs.dst);
    if (cs.dst == PipelineType::kF32) {
      ASSERT_NEAR(a, b, 1e-5 * std::max(1.0f, std::abs(b))) << "at " << i;
    } else {
      ASSERT_LE(std::abs(a - b), 1.0f) << "at " << i;
      off_by_one += a != b;
    }
  }
  EXPECT_LE(off_by_one, n_out / 100 + 1) << (*fast)->implementation();
  // A residual passed separately from dst (not in place) gives the same result.
  if (cs.residual && cs.in_place) {
    std::vector<uint8_t> y2(y.size(), 0);
    (*fast)->Run(src.data(), y2.data(), res.data());
    EXPECT_EQ(y2, y);
  }
#endif
}

TEST(Int8Pipeline, ConvMatchesReference) {
  using T = PipelineType;
  const Case cases[] = {
      {"stem: s8 image, 7x7 s2, ReLU", 3, 16, 15, 13, 7, 2, 3, true, T::kS8, T::kU8, false, true, T::kU8},
      {"3x3 u8 -> u8 ReLU", 16, 32, 9, 11, 3, 1, 1, true, T::kU8, T::kU8, false, true, T::kU8},
      {"3x3 s2, odd channels", 24, 40, 10, 9, 3, 2, 1, true, T::kU8, T::kU8, false, true, T::kU8},
      {"identity shortcut: in-place u8 sum", 32, 32, 8, 7, 3, 1, 1, true, T::kU8, T::kU8, true, true, T::kU8},
      {"in-place s8 residual under a u8 result", 16, 16, 6, 6, 3, 1, 1, true, T::kU8, T::kU8, true, true, T::kS8},
      {"downsample: 1x1 s2 -> f32", 32, 64, 10, 8, 1, 2, 0, false, T::kU8, T::kF32, false, true, T::kU8},
      {"separate f32 residual (binary add)", 32, 64, 5, 4, 3, 1, 1, true, T::kU8, T::kU8, true, false, T::kF32},
      {"last layer: f32 result, in-place f32 residual", 32, 48, 5, 6, 3, 1, 1, true, T::kU8, T::kF32, true, true,
       T::kF32},
      {"s8 result, no ReLU", 16, 16, 7, 5, 3, 1, 1, false, T::kU8, T::kS8, false, true, T::kU8},
  };
  for (const auto& c : cases) CheckCase(c);
}

TEST(Int8Pipeline, MaxPoolMatchesReference) {
  for (PipelineType t : {PipelineType::kU8, PipelineType::kS8}) {
    PoolParams p{40, 13, 11, 3, 2, 1};
    const auto src = RandomStored(static_cast<size_t>(p.channels * p.in_h * p.in_w), t, 7);
    auto ref = MakePipelineMaxPool(Backend::kReference, p, t);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    std::vector<uint8_t> want((*ref)->dst_bytes());
    (*ref)->Run(src.data(), want.data());
    // Spot check the reference: output (1, 2) channel 5 is the max of its 3x3 window.
    float m = -1e9f;
    for (int64_t y = 1; y <= 3; ++y)
      for (int64_t x = 3; x <= 5; ++x) m = std::max(m, At(src, static_cast<size_t>((y * p.in_w + x) * 40 + 5), t));
    EXPECT_EQ(At(want, static_cast<size_t>((1 * p.out_w() + 2) * 40 + 5), t), m);
    auto fast = MakePipelineMaxPool(Backend::kOneDnn, p, t);
#ifdef EMBODY_KERNELS_NO_ONEDNN
    EXPECT_EQ(fast.status().code(), StatusCode::kUnimplemented);
#else
    ASSERT_TRUE(fast.ok()) << fast.status().ToString();
    std::vector<uint8_t> got((*fast)->dst_bytes());
    (*fast)->Run(src.data(), got.data());
    EXPECT_EQ(got, want);
#endif
  }
}

TEST(Int8Pipeline, QuantizeAndDequantize) {
  const int64_t c = 3, h = 5, w = 37;
  const auto x = Random(static_cast<size_t>(c * h * w), 9, -3.f, 3.f);
  for (PipelineType t : {PipelineType::kS8, PipelineType::kU8}) {
    const PipelineTensor enc{t, 0.02f};
    std::vector<uint8_t> q(static_cast<size_t>(c * h * w));
    QuantizeNchwToNhwc(x.data(), c, h, w, enc, q.data());
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h * w; ++i) {
        float want = std::nearbyint(x[static_cast<size_t>(ch * h * w + i)] * (1.0f / 0.02f));
        want = t == PipelineType::kU8 ? std::clamp(want, 0.f, 255.f) : std::clamp(want, -127.f, 127.f);
        ASSERT_EQ(At(q, static_cast<size_t>(i * c + ch), t), want);
      }
    std::vector<float> back(q.size());
    DequantizeNhwc(q.data(), static_cast<int64_t>(q.size()), enc, back.data());
    for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(back[i], At(q, i, t) * 0.02f);
  }
}

TEST(Int8Pipeline, BadParamsAreClearErrors) {
  PipelineConvParams p;
  p.conv = ConvParams{8, 8, 6, 6, 3, 1, 1, true, false, false};
  std::vector<float> wf(8 * 72, 0.1f);
  auto w = QuantizeWeights(WeightFormat::kInt8, 8, 72, wf.data());
  ASSERT_TRUE(w.ok());
  auto msg = [&](const PipelineConvParams& pp, const PackedWeights& pw) {
    auto op = MakePipelineConv(Backend::kReference, pp, pw, nullptr);
    return op.ok() ? std::string("ok") : op.status().message();
  };
  EXPECT_EQ(msg(p, *w), "ok");
  PipelineConvParams bad = p;
  bad.dst.scale = 0;
  EXPECT_NE(msg(bad, *w).find("destination scale"), std::string::npos);
  bad = p;
  bad.src.type = PipelineType::kF32;
  EXPECT_NE(msg(bad, *w).find("source must be u8 or s8"), std::string::npos);
  bad = p;
  bad.conv.in_c = 4;
  EXPECT_NE(msg(bad, *w).find("[8, 72]"), std::string::npos);
  bad = p;
  bad.conv.residual = true;
  bad.residual_in_place = false;
  bad.residual = {PipelineType::kF32, 2.0f};
  EXPECT_NE(msg(bad, *w).find("separate residual"), std::string::npos);
  bad.residual_in_place = true;
  EXPECT_NE(msg(bad, *w).find("in-place residual"), std::string::npos);
  auto w4 = QuantizeWeights(WeightFormat::kInt4, 8, 72, wf.data());
  ASSERT_TRUE(w4.ok());
  EXPECT_NE(msg(p, *w4).find("must be int8"), std::string::npos);
  EXPECT_FALSE(MakePipelineMaxPool(Backend::kReference, PoolParams{8, 6, 6, 3, 2, 1}, PipelineType::kF32).ok());
}

}  // namespace
}  // namespace embody::kernels
