// Quantized weights and integer kernels (issue 7): every kernel family this CPU can run against
// the scalar reference. int8/int4 results must be bit-identical (same quantized activations, exact
// int32 sums, same float epilogue); only GELU/SiLU epilogues get a 1-ulp-scale tolerance (the
// shared activation loop may take a vector or scalar path depending on where a segment starts).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant/formats.h"
#include "kernels/quant/quant_internal.h"
#include "kernels/quant/quant_linear.h"

namespace embody::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Formats

TEST(QuantFormats, NamesRoundTripAndUnknownIsAnError) {
  for (WeightFormat f :
       {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kInt8, WeightFormat::kInt4}) {
    auto p = ParseWeightFormat(WeightFormatName(f));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, f);
  }
  auto bad = ParseWeightFormat("int3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("int3"), std::string::npos);
  EXPECT_NE(bad.status().message().find("int8"), std::string::npos);
}

TEST(QuantFormats, HalfConversionRoundsToNearestEven) {
  using quant::FloatToHalf;
  using quant::HalfToFloat;
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);              // rounds up to infinity
  EXPECT_EQ(FloatToHalf(1.0f + 1.0f / 2048), 0x3c00);    // tie: to even (down)
  EXPECT_EQ(FloatToHalf(1.0f + 3.0f / 2048), 0x3c02);    // tie: to even (up)
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);  // tie to even: zero
  EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -25)), 0x0002);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(NAN))));
  for (uint32_t h = 0; h < 0x7c00; ++h)  // every finite positive half survives the round trip
    ASSERT_EQ(FloatToHalf(HalfToFloat(static_cast<uint16_t>(h))), h) << h;
  EXPECT_EQ(quant::FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(quant::Bf16ToFloat(quant::FloatToBf16(3.0f)), 3.0f);
  EXPECT_EQ(quant::FloatToBf16(1.0f + 1.0f / 256), 0x3f80);  // tie to even
}

TEST(QuantFormats, QuantizeDequantizeErrorIsWithinHalfAStep) {
  const int64_t n = 7, k = 45;  // k not a multiple of 32: int4 pads the last block
  auto w = Random(static_cast<size_t>(n * k), 11);
  for (WeightFormat f :
       {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kInt8, WeightFormat::kInt4}) {
    auto p = QuantizeWeights(f, n, k, w.data());
    ASSERT_TRUE(p.ok()) << WeightFormatName(f);
    ASSERT_TRUE(p->Validate().ok()) << p->Validate().ToString();
    std::vector<float> back(w.size());
    DequantizeWeights(*p, back.data());
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        float step = 0;
        if (f == WeightFormat::kInt8) step = p->scales[static_cast<size_t>(r)];
        if (f == WeightFormat::kInt4) step = p->scales[static_cast<size_t>(r * p->scales_per_row() + c / 32)];
        if (f == WeightFormat::kF16) step = std::abs(w[r * k + c]) / 1024;
        if (f == WeightFormat::kBF16) step = std::abs(w[r * k + c]) / 128;
        EXPECT_LE(std::abs(back[r * k + c] - w[r * k + c]), 0.5f * step + 1e-7f)
            << WeightFormatName(f) << " (" << r << ", " << c << ")";
      }
  }
  auto p = QuantizeWeights(WeightFormat::kInt4, n, k, w.data());
  EXPECT_EQ(p->row_bytes(), 32);  // k = 45 padded to 64
  EXPECT_EQ(p->scales_per_row(), 2);
}

TEST(QuantFormats, BadInputIsAnError) {
  std::vector<float> w = {1, 2, NAN, 4};
  auto p = QuantizeWeights(WeightFormat::kInt8, 2, 2, w.data());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("(1, 0)"), std::string::npos) << p.status().message();
  w[2] = 3;
  auto q = QuantizeWeights(WeightFormat::kInt8, 2, 2, w.data());
  ASSERT_TRUE(q.ok());
  q->data.pop_back();
  EXPECT_FALSE(q->Validate().ok());
  LinearParams lp{4, 3, 2};  // k = 3 but the weights have k = 2
  auto r = QuantizeWeights(WeightFormat::kInt8, 2, 2, w.data());
  auto op = MakeQuantizedLinear(Backend::kOneDnn, lp, *r, nullptr);
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("2x2"), std::string::npos) << op.status().message();
  QuantOptions bad_scale;
  bad_scale.static_activation_scale = true;
  EXPECT_FALSE(MakeQuantizedLinear(Backend::kOneDnn, LinearParams{4, 2, 2}, *r, nullptr, bad_scale).ok());
}

// ---------------------------------------------------------------------------------------------
// Linear: every family against the reference

struct Case {
  int64_t m, k, n;
  Activation act = Activation::kNone;
  bool residual = false, alias = false, bias = true, static_scale = false;
  int64_t ldx = 0, ldy = 0;
  int64_t rows = 0;  // RunRows with this many rows (0: Run)
};

std::string Describe(const Case& c, WeightFormat f, KernelIsa isa) {
  return std::string(KernelIsaName(isa)) + " " + WeightFormatName(f) + " " + std::to_string(c.m) + "x" +
         std::to_string(c.k) + "x" + std::to_string(c.n) + " act " + std::to_string(static_cast<int>(c.act)) +
         (c.residual ? (c.alias ? " residual(aliased)" : " residual") : "") + (c.bias ? " bias" : "") +
         (c.static_scale ? " static" : "") + (c.rows ? " rows " + std::to_string(c.rows) : "");
}

void CheckCase(const Case& c, WeightFormat f, KernelIsa isa) {
  LinearParams p{c.m, c.k, c.n};
  p.act = c.act;
  p.residual = c.residual;
  p.ldx = c.ldx;
  p.ldy = c.ldy;
  p.ldr = c.ldy;
  const int64_t ldx = c.ldx ? c.ldx : c.k, ldy = c.ldy ? c.ldy : c.n;
  const auto w = Random(static_cast<size_t>(c.n * c.k), 1);
  auto x = Random(static_cast<size_t>(c.m * ldx), 2, -3.f, 3.f);
  if (c.m > 2) std::fill(x.begin() + ldx, x.begin() + 2 * ldx, 0.0f);  // an all-zero row
  const auto b = Random(static_cast<size_t>(c.n), 3);
  const auto r = Random(static_cast<size_t>(c.m * ldy), 4);
  auto pw = QuantizeWeights(f, c.n, c.k, w.data());
  ASSERT_TRUE(pw.ok());
  QuantOptions q;
  q.static_activation_scale = c.static_scale;
  q.activation_scale = 2.0f / 127;  // clips |x| > 2: exercises the clamp
  auto ref = MakeQuantizedLinear(Backend::kReference, p, *pw, c.bias ? b.data() : nullptr, q);
  auto fast = quant::MakeQuantizedLinearWithIsa(isa, p, *pw, c.bias ? b.data() : nullptr, q);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  const int64_t rows = c.rows ? c.rows : c.m;
  std::vector<float> y_ref(static_cast<size_t>(c.m * ldy), -7.f), y(y_ref.size(), -7.f);
  const float* res_ref = c.residual ? r.data() : nullptr;
  const float* res = res_ref;
  if (c.alias) {
    y_ref = r;
    y = r;
    res_ref = y_ref.data();
    res = y.data();
  }
  (*ref)->RunRows(x.data(), rows, y_ref.data(), res_ref);
  for (int rep = 0; rep < 2; ++rep) {  // twice: no state may leak between runs
    if (c.alias) y = r;
    (*fast)->RunRows(x.data(), rows, y.data(), res);
  }
  const bool exact = c.act == Activation::kNone || c.act == Activation::kRelu;
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < ldy; ++j) {
      const size_t idx = static_cast<size_t>(i * ldy + j);
      if (i >= rows || j >= c.n) {  // rows past `rows` and the padding of y stay untouched
        ASSERT_EQ(y[idx], c.alias ? r[idx] : -7.f) << Describe(c, f, isa) << " wrote (" << i << ", " << j << ")";
        continue;
      }
      if (exact) {
        ASSERT_EQ(y[idx], y_ref[idx]) << Describe(c, f, isa) << " at (" << i << ", " << j << ")";
      } else {
        ASSERT_NEAR(y[idx], y_ref[idx], 2e-6f * std::max(1.0f, std::abs(y_ref[idx])))
            << Describe(c, f, isa) << " at (" << i << ", " << j << ")";
      }
    }
}

std::vector<Case> Cases() {
  std::vector<Case> cs = {
      {1, 32, 16},   {1, 37, 5},    {2, 1, 1},     {3, 64, 33},    {13, 100, 47}, {14, 96, 64},
      {15, 64, 65},  {50, 77, 257}, {50, 720, 96}, {29, 33, 31},   {6, 31, 17},   {7, 200, 12},
      {8, 48, 24},   {9, 5, 13},    {4, 64, 2050},
  };
  Case c{20, 70, 40};
  c.act = Activation::kRelu;
  cs.push_back(c);
  c.act = Activation::kGeluTanh;
  cs.push_back(c);
  c.act = Activation::kSilu;
  c.bias = false;
  cs.push_back(c);
  Case r{17, 45, 50};
  r.residual = true;
  cs.push_back(r);
  r.alias = true;
  cs.push_back(r);
  r.act = Activation::kGelu;  // activation then residual, y aliasing the residual
  cs.push_back(r);
  Case s{10, 64, 40};
  s.static_scale = true;
  cs.push_back(s);
  Case ld{11, 40, 30};
  ld.ldx = 57;
  ld.ldy = 35;
  ld.residual = true;
  cs.push_back(ld);
  Case dyn{50, 96, 70};
  dyn.rows = 23;
  cs.push_back(dyn);
  dyn.rows = 1;
  cs.push_back(dyn);
  return cs;
}

class QuantLinearIsa : public ::testing::TestWithParam<KernelIsa> {};

TEST_P(QuantLinearIsa, Int8MatchesReferenceBitForBit) {
  for (const Case& c : Cases()) CheckCase(c, WeightFormat::kInt8, GetParam());
}

TEST_P(QuantLinearIsa, Int4MatchesReferenceBitForBit) {
  for (const Case& c : Cases()) CheckCase(c, WeightFormat::kInt4, GetParam());
}

TEST_P(QuantLinearIsa, LargeShape) {
  CheckCase(Case{50, 720, 300}, WeightFormat::kInt8, GetParam());
  CheckCase(Case{37, 1024, 130}, WeightFormat::kInt4, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Available, QuantLinearIsa, ::testing::ValuesIn(AvailableIsas()),
                         [](const auto& info) {
                           std::string s = KernelIsaName(info.param);
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

TEST(QuantLinear, SixteenBitFormatsStayCloseToF32) {
  const int64_t m = 9, k = 70, n = 33;
  const auto w = Random(static_cast<size_t>(n * k), 5), x = Random(static_cast<size_t>(m * k), 6);
  LinearParams p{m, k, n};
  auto f32 = MakeQuantizedLinear(Backend::kReference, p, *QuantizeWeights(WeightFormat::kF32, n, k, w.data()), nullptr);
  ASSERT_TRUE(f32.ok());
  std::vector<float> y32(static_cast<size_t>(m * n)), y(y32.size());
  (*f32)->Run(x.data(), y32.data());
  for (WeightFormat f : {WeightFormat::kF16, WeightFormat::kBF16, WeightFormat::kInt8, WeightFormat::kInt4}) {
    for (Backend b : {Backend::kReference, Backend::kOneDnn}) {
      auto op = MakeQuantizedLinear(b, p, *QuantizeWeights(f, n, k, w.data()), nullptr);
      ASSERT_TRUE(op.ok()) << op.status().ToString();
      (*op)->Run(x.data(), y.data());
      double err = 0, norm = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        err += (y[i] - y32[i]) * (y[i] - y32[i]);
        norm += y32[i] * y32[i];
      }
      const double rel = std::sqrt(err / norm);
      const double bound = f == WeightFormat::kF16 ? 1e-3 : f == WeightFormat::kBF16 ? 5e-3 : f == WeightFormat::kInt8 ? 0.02 : 0.15;
      EXPECT_LT(rel, bound) << WeightFormatName(f) << " on " << BackendName(b);
    }
  }
}

// 16-bit weights on their fast kernel (bf16: oneDNN's bf16 matmul on AMX/AVX512-BF16 CPUs; f16:
// NEON half-precision arithmetic on ARMv8.2+fp16; elsewhere widened to f32): the activation rows
// are rounded to 16 bits too, so the result is within 16-bit rounding of the reference (f32
// arithmetic on the same weights), for every row count (the M buckets), strided rows, bias with
// GELU, and bias with a residual aliasing y (the widened f32 path takes one or the other).
TEST(QuantLinear, SixteenBitKernelsMatchTheReferenceWithinTheirRounding) {
  const int64_t m = 77, k = 296, n = 40, ldx = 300, ldy = 45;
  const auto w = Random(static_cast<size_t>(n * k), 7), bias = Random(static_cast<size_t>(n), 8);
  const auto x = Random(static_cast<size_t>(m * ldx), 9);
  for (WeightFormat f : {WeightFormat::kBF16, WeightFormat::kF16})
  for (bool residual : {false, true}) {
    const PackedWeights packed = *QuantizeWeights(f, n, k, w.data());
    LinearParams p{m, k, n, ldx, ldy, ldy, residual ? Activation::kNone : Activation::kGelu, residual};
    auto ref = MakeQuantizedLinear(Backend::kReference, p, packed, bias.data());
    auto fast = MakeQuantizedLinear(Backend::kOneDnn, p, packed, bias.data());
    ASSERT_TRUE(ref.ok() && fast.ok()) << fast.status().ToString();
    std::printf("%s kernel: %s\n", WeightFormatName(f), QuantKernelName(f).c_str());
    for (int64_t rows : {m, int64_t{33}, int64_t{5}, int64_t{1}}) {
      const auto res = Random(static_cast<size_t>(m * ldy), 10 + static_cast<uint32_t>(rows));
      std::vector<float> want = res, got = res;
      (*ref)->RunRows(x.data(), rows, want.data(), residual ? want.data() : nullptr);
      (*fast)->RunRows(x.data(), rows, got.data(), residual ? got.data() : nullptr);
      double err = 0, norm = 0;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < ldy; ++j) {
          const size_t at = static_cast<size_t>(i * ldy + j);
          if (j >= n) {
            EXPECT_EQ(got[at], res[at]) << "column " << j << " past n was written";
            continue;
          }
          err += (got[at] - want[at]) * (got[at] - want[at]);
          norm += want[at] * want[at];
        }
      const double rel = std::sqrt(err / norm);
      if (rows == m) std::printf("  relative error %.2e\n", rel);
      EXPECT_LT(rel, f == WeightFormat::kBF16 ? 4e-3 : 1e-3) << WeightFormatName(f) << " " << rows << " rows";
    }
  }
}

// Long rows (ACT's feed-forward, k = 3200): the f16 kernel's partial sums return to f32 every
// 16 steps, so its error stays at a few f16 roundings instead of growing with k.
TEST(QuantLinear, F16ErrorDoesNotGrowWithK) {
  const int64_t m = 5, n = 20;
  for (int64_t k : {64, 3200}) {
    const auto w = Random(static_cast<size_t>(n * k), 11), x = Random(static_cast<size_t>(m * k), 12);
    const PackedWeights packed = *QuantizeWeights(WeightFormat::kF16, n, k, w.data());
    LinearParams p{m, k, n};
    auto ref = MakeQuantizedLinear(Backend::kReference, p, packed, nullptr);
    auto fast = MakeQuantizedLinear(Backend::kOneDnn, p, packed, nullptr);
    ASSERT_TRUE(ref.ok() && fast.ok());
    std::vector<float> want(static_cast<size_t>(m * n)), got(want.size());
    (*ref)->Run(x.data(), want.data());
    (*fast)->Run(x.data(), got.data());
    double err = 0, norm = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      err += (got[i] - want[i]) * (got[i] - want[i]);
      norm += want[i] * want[i];
    }
    EXPECT_LT(std::sqrt(err / norm), 1e-3) << "k = " << k;
  }
}

// f16/bf16 convolution weights (a plan's backbone=bf16) run as the backend's f32 convolution on
// the widened weights, the same result as building that convolution from them; int4 is refused
// with a pointer to int8.
TEST(QuantConv, SixteenBitWeightsRunWidenedAndInt4IsRefused) {
  ConvParams p;
  p.in_c = 8, p.out_c = 16, p.in_h = 9, p.in_w = 11, p.kernel = 3, p.stride = 1, p.pad = 1, p.relu = true;
  p.plain_src = true;
  const int64_t kk = p.in_c * 9;
  const auto w = Random(static_cast<size_t>(p.out_c * kk), 13), bias = Random(static_cast<size_t>(p.out_c), 14);
  for (WeightFormat f : {WeightFormat::kF16, WeightFormat::kBF16}) {
    const PackedWeights packed = *QuantizeWeights(f, p.out_c, kk, w.data());
    std::vector<float> widened(static_cast<size_t>(p.out_c * kk));
    DequantizeWeights(packed, widened.data());
    auto q = MakeQuantizedConv(Backend::kReference, p, packed, bias.data());
    auto ref = MakeConv(Backend::kReference, p, widened.data(), bias.data());
    ASSERT_TRUE(q.ok() && ref.ok()) << q.status().ToString();
    const auto src = Random((*q)->src_bytes() / 4, 15);
    std::vector<float> a((*q)->dst_bytes() / 4), b(a.size());
    (*q)->Run(src.data(), a.data());
    (*ref)->Run(src.data(), b.data());
    EXPECT_EQ(a, b) << WeightFormatName(f);
  }
  auto int4 = MakeQuantizedConv(Backend::kReference, p, *QuantizeWeights(WeightFormat::kInt4, p.out_c, kk, w.data()),
                                bias.data());
  ASSERT_FALSE(int4.ok());
  EXPECT_NE(int4.status().message().find("use int8"), std::string::npos);
}

TEST(QuantLinear, KernelIsaOverride) {
  const char* old = std::getenv("EMBODY_KERNEL_ISA");
  const std::string saved = old ? old : "";
  setenv("EMBODY_KERNEL_ISA", "ref", 1);
  EXPECT_EQ(QuantKernelName(WeightFormat::kInt8), "ref (scalar)");
  setenv("EMBODY_KERNEL_ISA", "sse9", 1);
  std::vector<float> w(4, 0.5f);
  auto op = MakeQuantizedLinear(Backend::kOneDnn, LinearParams{1, 2, 2},
                                *QuantizeWeights(WeightFormat::kInt8, 2, 2, w.data()), nullptr);
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("sse9"), std::string::npos);
  if (old) {
    setenv("EMBODY_KERNEL_ISA", saved.c_str(), 1);
  } else {
    unsetenv("EMBODY_KERNEL_ISA");
  }
  EXPECT_FALSE(QuantKernelSummary().empty());
}

}  // namespace
}  // namespace embody::kernels
