// int8 convolution: the fast backend (oneDNN u8/s8 x s8, or the reference in builds without
// oneDNN) against the scalar reference, and both against the f32 convolution.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/quant/quant_linear.h"

namespace embody::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// Index of (c, y, x) in nChw16c.
size_t BlockedIndex(int64_t c, int64_t y, int64_t x, int64_t h, int64_t w) {
  return static_cast<size_t>(((c / 16) * h * w + y * w + x) * 16 + c % 16);
}

struct ConvCase {
  int64_t in_c, out_c, h, w, kernel, stride, pad;
  bool relu, residual, plain_src;
};

void CheckConv(const ConvCase& cc, bool static_scale) {
  ConvParams p;
  p.in_c = cc.in_c;
  p.out_c = cc.out_c;
  p.in_h = cc.h;
  p.in_w = cc.w;
  p.kernel = cc.kernel;
  p.stride = cc.stride;
  p.pad = cc.pad;
  p.relu = cc.relu;
  p.residual = cc.residual;
  p.plain_src = cc.plain_src;
  const int64_t kk = cc.in_c * cc.kernel * cc.kernel, oh = p.out_h(), ow = p.out_w();
  const auto w = Random(static_cast<size_t>(cc.out_c * kk), 1, -0.5f, 0.5f);
  const auto b = Random(static_cast<size_t>(cc.out_c), 2, -0.5f, 0.5f);
  // ReLU outputs feed every conv but the first: non-negative unless plain_src.
  const auto x = Random(static_cast<size_t>(cc.in_c * cc.h * cc.w), 3, cc.plain_src ? -2.f : 0.f, 2.f);
  const auto res = Random(static_cast<size_t>(cc.out_c * oh * ow), 4, -1.f, 1.f);
  auto pw = QuantizeWeights(WeightFormat::kInt8, cc.out_c, kk, w.data());
  ASSERT_TRUE(pw.ok());
  QuantOptions q;
  q.static_activation_scale = static_scale;
  q.activation_scale = 2.0f / (cc.plain_src ? 127 : 255);
  auto ref = MakeQuantizedConv(Backend::kReference, p, *pw, b.data(), q);
  auto fast = MakeQuantizedConv(Backend::kOneDnn, p, *pw, b.data(), q);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  std::vector<float> y_ref(static_cast<size_t>(cc.out_c * oh * ow));
  (*ref)->Run(x.data(), y_ref.data(), cc.residual ? res.data() : nullptr);

#ifdef EMBODY_KERNELS_NO_ONEDNN
  const bool blocked = false;  // the fast backend falls back to the reference (NCHW)
#else
  const bool blocked = true;  // oneDNN: nChw16c
#endif
  // The fast op's layout: nChw16c on oneDNN builds (plain NCHW source when plain_src).
  std::vector<float> src((*fast)->src_bytes() / 4, 0.f), dst((*fast)->dst_bytes() / 4, 0.f);
  std::vector<float> r_fast(dst.size(), 0.f);
  auto to_fast = [&](const std::vector<float>& plain, std::vector<float>& out, int64_t c, int64_t h, int64_t wd,
                     bool plain_layout) {
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t xx = 0; xx < wd; ++xx)
          out[plain_layout ? static_cast<size_t>((ci * h + y) * wd + xx) : BlockedIndex(ci, y, xx, h, wd)] =
              plain[static_cast<size_t>((ci * h + y) * wd + xx)];
  };
  to_fast(x, src, cc.in_c, cc.h, cc.w, !blocked || cc.plain_src);
  to_fast(res, r_fast, cc.out_c, oh, ow, !blocked);
  if (cc.residual) dst = r_fast;  // accumulate in place (residual == dst)
  (*fast)->Run(src.data(), dst.data(), cc.residual ? dst.data() : nullptr);
  double max_ref = 0;
  for (float v : y_ref) max_ref = std::max(max_ref, static_cast<double>(std::abs(v)));
  for (int64_t o = 0; o < cc.out_c; ++o)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xx = 0; xx < ow; ++xx) {
        const float want = y_ref[static_cast<size_t>((o * oh + y) * ow + xx)];
        const float got = dst[blocked ? BlockedIndex(o, y, xx, oh, ow) : static_cast<size_t>((o * oh + y) * ow + xx)];
        // Same int32 sums; oneDNN applies the scale as scale * (sum + bias / scale): a few ulps.
        ASSERT_NEAR(got, want, 1e-5 * std::max(1.0, max_ref))
            << "conv " << cc.in_c << "->" << cc.out_c << " k" << cc.kernel << " s" << cc.stride << " at (" << o
            << ", " << y << ", " << xx << ")";
      }

  // Quantization error against the f32 reference convolution: a few percent at most.
  auto f32 = MakeConv(Backend::kReference, p, w.data(), b.data());
  ASSERT_TRUE(f32.ok());
  std::vector<float> y32(y_ref.size());
  (*f32)->Run(x.data(), y32.data(), cc.residual ? res.data() : nullptr);
  double err = 0, norm = 0;
  for (size_t i = 0; i < y32.size(); ++i) {
    err += (y_ref[i] - y32[i]) * (y_ref[i] - y32[i]);
    norm += y32[i] * y32[i];
  }
  EXPECT_LT(std::sqrt(err / norm), 0.03);
}

TEST(QuantConv, MatchesReference) {
  const ConvCase cases[] = {
      {16, 32, 9, 11, 3, 1, 1, true, false, false},   // 3x3, ReLU
      {32, 16, 10, 8, 3, 2, 1, false, true, false},   // stride 2 with residual
      {16, 16, 7, 7, 1, 1, 0, true, true, false},     // 1x1, residual then ReLU
      {3, 16, 15, 13, 7, 2, 3, true, false, true},    // the first layer: plain signed image
  };
  for (const auto& c : cases) {
    CheckConv(c, false);
    CheckConv(c, true);
  }
}

TEST(QuantConv, BadWeightsAreAnError) {
  ConvParams p;
  p.in_c = 4;
  p.out_c = 8;
  p.in_h = p.in_w = 8;
  p.kernel = 3;
  p.pad = 1;
  std::vector<float> w(static_cast<size_t>(8 * 4 * 9), 0.1f);
  auto pw = QuantizeWeights(WeightFormat::kInt8, 8, 4 * 9, w.data());
  p.in_c = 5;
  auto op = MakeQuantizedConv(Backend::kOneDnn, p, *pw, nullptr);
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("[8, 36]"), std::string::npos) << op.status().message();
  auto p4 = QuantizeWeights(WeightFormat::kInt4, 8, 4 * 9, w.data());
  p.in_c = 4;
  EXPECT_FALSE(MakeQuantizedConv(Backend::kOneDnn, p, *p4, nullptr).ok());
}

}  // namespace
}  // namespace embody::kernels
