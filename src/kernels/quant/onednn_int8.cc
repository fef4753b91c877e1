// int8 linear and convolution on oneDNN 2.6's integer primitives (AMX on Sapphire Rapids, VNNI
// before it). Linear: s8 x s8 -> s32 matmul on embody's quantized rows, then embody's epilogue
// (so results are bit-identical to the reference). Convolution: u8/s8 x s8 with per-channel
// runtime output scales, f32 nChw16c out.
//
// Linear rows: one primitive per row bucket (onednn_row_buckets.h: AMX needs M at creation).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <immintrin.h>
#include <cstring>
#include <dnnl.hpp>
#include <unordered_map>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/quant/formats.h"
#include "kernels/onednn/dnnl_util.h"
#include "kernels/quant/onednn_row_buckets.h"
#include "kernels/quant/quant_internal.h"

namespace embody::kernels::quant {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;
using dnnl_util::Engine;
using dnnl_util::Guard;
using dnnl_util::OwnScratchpad;
using dnnl_util::Scratchpad;


#define EMBODY_X86_FAST __attribute__((target("avx512f,avx512bw,avx512vl,fma,avx2")))

// Row quantization exactly as quant_ref.cc (QuantizeValue), compiled for AVX-512.
// The activation quantization of every int8 linear, on the critical path of each call: written
// with AVX-512 intrinsics because the compiler leaves the nearbyint loop scalar. Same result as
// the scalar reference: cvtps rounds to nearest even like nearbyint in the default mode, and the
// clamp to [-127, 127] happens before the narrow.
// GCC 12 reports its own _mm512_undefined_* placeholders as maybe-uninitialized here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
EMBODY_X86_FAST float QuantizeRowS8(const float* x, int64_t k, const QuantOptions& o, int8_t* q) {
  float scale, inv;
  int64_t c = 0;
  if (o.static_activation_scale) {
    scale = o.activation_scale;
    inv = 1.0f / o.activation_scale;
  } else {
    __m512 vmax = _mm512_setzero_ps();
    for (; c + 16 <= k; c += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + c)));
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, vmax);
    float amax = 0.0f;
    for (float l : lanes) amax = std::max(amax, l);
    for (; c < k; ++c) amax = std::max(amax, std::abs(x[c]));
    scale = RowScale(amax);
    inv = RowInverse(amax);
  }
  const __m512 vinv = _mm512_set1_ps(inv);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  for (c = 0; c + 16 <= k; c += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + c), vinv));
    v = _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + c), _mm512_maskz_cvtepi32_epi8(0xFFFF, v));
  }
  for (; c < k; ++c) {
    float v = std::nearbyint(x[c] * inv);
    v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
    q[c] = static_cast<int8_t>(static_cast<int32_t>(v));
  }
  return scale;
}
#pragma GCC diagnostic pop

EMBODY_X86_FAST void EpilogueRow(const int32_t* acc, int64_t n, float sa, const float* ws, const float* b,
                                 float* row) {
  for (int64_t j = 0; j < n; ++j) row[j] = std::fma(static_cast<float>(acc[j]), sa * ws[j], b[j]);
}


class OneDnnInt8Linear final : public LinearOp {
 public:
  static Result<std::unique_ptr<LinearOp>> Create(LinearParams p, const PackedWeights& w, const float* bias,
                                                  const QuantOptions& q) {
    return Guard("int8 linear", [&]() -> Result<std::unique_ptr<LinearOp>> {
      if (!p.ldx) p.ldx = p.k;
      if (!p.ldy) p.ldy = p.n;
      if (!p.ldr) p.ldr = p.n;
      auto op = std::unique_ptr<OneDnnInt8Linear>(new OneDnnInt8Linear(p, q));
      op->wscale_ = w.scales;
      op->bias_.assign(static_cast<size_t>(p.n), 0.0f);
      if (bias) std::copy(bias, bias + p.n, op->bias_.begin());
      op->matmul_.Build(p.m, p.k, p.n, dt::s8, dt::s8, dt::s32, w.data.data());
      op->a_.resize(static_cast<size_t>(p.m * p.k));
      op->acc_.resize(static_cast<size_t>(p.m * p.n));
      op->row_scale_.resize(static_cast<size_t>(p.m));
      op->rows_.resize(static_cast<size_t>(std::max(1, omp_get_max_threads()) * p.n));
      return std::unique_ptr<LinearOp>(std::move(op));
    });
  }
  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }
  void RunRows(const float* x, int64_t rows, float* y, const float* res) override {
    if (rows <= 0) return;
    const int64_t k = p_.k, n = p_.n;
#pragma omp parallel for schedule(static) if (rows * k > 32768)
    for (int64_t i = 0; i < rows; ++i)
      row_scale_[static_cast<size_t>(i)] = QuantizeRowS8(x + i * p_.ldx, k, q_, a_.data() + i * k);
    matmul_.Run(rows, a_.data(), acc_.data());
    const int max_threads = static_cast<int>(rows_.size() / static_cast<size_t>(n));
#pragma omp parallel num_threads(std::min(max_threads, std::max(1, omp_get_max_threads()))) if (rows * n > 32768)
    {
      float* row = rows_.data() + static_cast<size_t>(omp_get_thread_num()) * static_cast<size_t>(n);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < rows; ++i) {
        EpilogueRow(acc_.data() + i * n, n, row_scale_[static_cast<size_t>(i)], wscale_.data(), bias_.data(), row);
        ApplyActivationInPlace(p_.act, row, n);
        float* yi = y + i * p_.ldy;
        if (p_.residual) {
          const float* ri = res + i * p_.ldr;  // may alias yi
          for (int64_t j = 0; j < n; ++j) yi[j] = row[j] + ri[j];
        } else {
          std::memcpy(yi, row, static_cast<size_t>(n) * 4);
        }
      }
    }
  }

 private:
  OneDnnInt8Linear(const LinearParams& p, const QuantOptions& q) : p_(p), q_(q) {}
  LinearParams p_;
  QuantOptions q_;
  RowBucketedMatmul matmul_;
  std::vector<int8_t> a_;
  std::vector<int32_t> acc_;
  std::vector<float> wscale_, bias_, row_scale_, rows_;
};

// (target_clones is off under ASan, as in elementwise.cc.)
#if defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define EMBODY_QUANT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EMBODY_QUANT_MULTIVERSION
#endif
// Whole-tensor helpers for the convolution (which also runs on AVX2-only CPUs): built for
// AVX-512, AVX2 and baseline x86 and picked at load time; the callers split the work in chunks.
EMBODY_QUANT_MULTIVERSION float AbsMaxChunk(const float* x, int64_t n) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::abs(x[i]));
  return amax;
}

// One pixel's channels [c0, c0 + n) from src (stride `cs` between channels) into q, as u8 or s8.
EMBODY_QUANT_MULTIVERSION void QuantizeChannels(const float* src, int64_t cs, int64_t n, float inv, float lo,
                                                float hi, bool is_signed, uint8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(src[i * cs] * inv);
    v = v < lo ? lo : (v > hi ? hi : v);
    const auto iv = static_cast<int32_t>(v);
    q[i] = is_signed ? static_cast<uint8_t>(static_cast<int8_t>(iv)) : static_cast<uint8_t>(iv);
  }
}

// dst[o] = relu?(fma(acc[o], sa * ws[o], b[o]) (+ res[o])) for one pixel's block of channels,
// exactly as quant_ref.cc computes it.
EMBODY_QUANT_MULTIVERSION void ConvEpilogue(const int32_t* acc, int64_t n, float sa, const float* ws,
                                            const float* b, const float* res, bool relu, float* dst) {
  for (int64_t i = 0; i < n; ++i) {
    float v = std::fma(static_cast<float>(acc[i]), sa * ws[i], b[i]);
    if (res) v += res[i];
    dst[i] = relu ? std::max(v, 0.0f) : v;
  }
}

float AbsMax(const float* x, int64_t n) {
  constexpr int64_t kChunk = 1 << 16;
  float amax = 0.0f;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for reduction(max : amax) schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c)
    amax = std::max(amax, AbsMaxChunk(x + c * kChunk, std::min(kChunk, n - c * kChunk)));
  return amax;
}

// oneDNN 2.6 has no int8 convolution with runtime output scales on these CPUs, and its int8
// kernels want NHWC: the op quantizes the f32 source (nChw16c or plain NCHW) straight into a u8/s8
// NHWC buffer, runs a u8/s8 x s8 -> s32 NHWC convolution (AMX brgconv on Sapphire Rapids), and
// its own epilogue writes f32 nChw16c with scale, bias, residual and ReLU. The int32 sums are
// exact and the epilogue is the reference's: results match quant_ref.cc bit for bit.
class OneDnnInt8Conv final : public ConvOp {
 public:
  static Result<std::unique_ptr<ConvOp>> Create(const ConvParams& p, const PackedWeights& w, const float* bias,
                                                const QuantOptions& q) {
    return Guard("int8 convolution", [&]() -> Result<std::unique_ptr<ConvOp>> {
      auto op = std::unique_ptr<OneDnnInt8Conv>(new OneDnnInt8Conv(p, q));
      op->signed_ = p.plain_src;
      memory::desc src_f32({1, p.in_c, p.in_h, p.in_w}, dt::f32, p.plain_src ? tag::nchw : tag::nChw16c);
      memory::desc dst_f32({1, p.out_c, p.out_h(), p.out_w()}, dt::f32, tag::nChw16c);
      memory::desc src_md({1, p.in_c, p.in_h, p.in_w}, op->signed_ ? dt::s8 : dt::u8, tag::nhwc);
      memory::desc dst_md({1, p.out_c, p.out_h(), p.out_w()}, dt::s32, tag::nhwc);
      memory::desc w_any({p.out_c, p.in_c, p.kernel, p.kernel}, dt::s8, tag::any);
      memory::desc w_user({p.out_c, p.in_c, p.kernel, p.kernel}, dt::s8, tag::oihw);
      const memory::dims strides{p.stride, p.stride}, pad{p.pad, p.pad};
      dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                          src_md, w_any, dst_md, strides, pad, pad),
          OwnScratchpad(), Engine());
      op->impl_ = pd.impl_info_str();
      op->src_bytes_ = src_f32.get_size();
      op->dst_bytes_ = dst_f32.get_size();
      memory user(w_user, Engine(), const_cast<uint8_t*>(w.data.data()));
      op->weights_ = memory(pd.weights_desc(), Engine());
      dnnl::reorder(user, op->weights_).execute(op->stream_, user, op->weights_);
      op->stream_.wait();
      op->wscale_ = w.scales;
      op->bias_.assign(bias, bias + p.out_c);
      op->qsrc_.resize(src_md.get_size());
      op->acc_.resize(dst_md.get_size() / 4);
      op->src_ = memory(src_md, Engine(), op->qsrc_.data());
      op->dst_ = memory(dst_md, Engine(), op->acc_.data());
      op->prim_ = dnnl::convolution_forward(pd);
      op->args_ = {{DNNL_ARG_SRC, op->src_}, {DNNL_ARG_WEIGHTS, op->weights_}, {DNNL_ARG_DST, op->dst_}};
      if (pd.scratchpad_desc().get_size() > 0) op->args_[DNNL_ARG_SCRATCHPAD] = Scratchpad(pd.scratchpad_desc());
      return std::unique_ptr<ConvOp>(std::move(op));
    });
  }
  size_t src_bytes() const override { return src_bytes_; }
  size_t dst_bytes() const override { return dst_bytes_; }
  void Run(const void* src_v, void* dst_v, const void* res_v) override {
    const auto* src = static_cast<const float*>(src_v);
    auto* dst = static_cast<float*>(dst_v);
    const auto* res = static_cast<const float*>(res_v);
    const float qmax = signed_ ? 127.0f : 255.0f, qmin = signed_ ? -127.0f : 0.0f;
    float scale = q_.activation_scale, inv = 1.0f / q_.activation_scale;
    if (!q_.static_activation_scale) {
      const float amax = AbsMax(src, static_cast<int64_t>(src_bytes_ / 4));
      scale = amax / qmax;
      inv = amax > 0 ? qmax / amax : 0.0f;
    }
    const int64_t c = p_.in_c, hw = p_.in_h * p_.in_w, cb = (c + 15) / 16;
    uint8_t* q = qsrc_.data();
#pragma omp parallel for schedule(static) if (hw * c > 65536)
    for (int64_t px = 0; px < hw; ++px) {
      if (p_.plain_src) {
        QuantizeChannels(src + px, hw, c, inv, qmin, qmax, signed_, q + px * c);
      } else {
        for (int64_t b = 0; b < cb; ++b)
          QuantizeChannels(src + (b * hw + px) * 16, 1, std::min<int64_t>(16, c - 16 * b), inv, qmin, qmax, signed_,
                           q + px * c + 16 * b);
      }
    }
    prim_.execute(stream_, args_);
    stream_.wait();
    const int64_t oc = p_.out_c, ohw = p_.out_h() * p_.out_w(), ob = (oc + 15) / 16;
    const bool relu = p_.relu;
#pragma omp parallel for schedule(static) if (ohw * oc > 65536)
    for (int64_t px = 0; px < ohw; ++px)
      for (int64_t b = 0; b < ob; ++b) {
        const int64_t n = std::min<int64_t>(16, oc - 16 * b), at = (b * ohw + px) * 16;
        ConvEpilogue(acc_.data() + px * oc + 16 * b, n, scale, wscale_.data() + 16 * b, bias_.data() + 16 * b,
                     p_.residual ? res + at : nullptr, relu, dst + at);
        for (int64_t i = n; i < 16; ++i) dst[at + i] = 0.0f;  // channel padding of the last block
      }
  }

 private:
  OneDnnInt8Conv(const ConvParams& p, const QuantOptions& q) : p_(p), q_(q), stream_(Engine()) {}
  ConvParams p_;
  QuantOptions q_;
  dnnl::stream stream_;
  dnnl::primitive prim_;
  memory weights_, src_, dst_;
  std::unordered_map<int, memory> args_;
  std::string impl_;
  std::vector<uint8_t> qsrc_;
  std::vector<int32_t> acc_;
  std::vector<float> wscale_, bias_;
  bool signed_ = false;
  size_t src_bytes_ = 0, dst_bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<LinearOp>> MakeOneDnnInt8Linear(const LinearParams& p, const PackedWeights& w,
                                                       const float* bias, const QuantOptions& q) {
  return OneDnnInt8Linear::Create(p, w, bias, q);
}

Result<std::unique_ptr<ConvOp>> MakeOneDnnInt8Conv(const ConvParams& p, const PackedWeights& w, const float* bias,
                                                   const QuantOptions& q) {
  return OneDnnInt8Conv::Create(p, w, bias, q);
}

}  // namespace embody::kernels::quant
