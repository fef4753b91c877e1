// int8 pipelines: argument checks, the epilogue constants every backend shares, the scalar
// reference (the oracle of the oneDNN path, written as int8_pipeline.h specifies the arithmetic),
// and the quantize / dequantize passes at the ends of a pipeline.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/quant/quant_internal.h"

namespace embody::kernels {

const char* PipelineTypeName(PipelineType t) {
  switch (t) {
    case PipelineType::kU8: return "u8";
    case PipelineType::kS8: return "s8";
    case PipelineType::kF32: return "f32";
  }
  return "?";
}

size_t PipelineTypeBytes(PipelineType t) { return t == PipelineType::kF32 ? 4 : 1; }

namespace {

bool IsInt8(PipelineType t) { return t != PipelineType::kF32; }

Status CheckScale(const PipelineTensor& t, const char* what) {
  if (!(std::isfinite(t.scale) && t.scale > 0))
    return InvalidArgument(std::string("pipeline conv: the ") + what + " scale must be positive and finite, got " +
                           std::to_string(t.scale));
  return Status::Ok();
}

Status CheckConv(const PipelineConvParams& pp, const PackedWeights& w) {
  const ConvParams& p = pp.conv;
  EMBODY_TRY(w.Validate());
  if (w.format != WeightFormat::kInt8)
    return InvalidArgument(std::string("pipeline conv: weights must be int8, got ") + WeightFormatName(w.format));
  for (int64_t d : {p.in_c, p.out_c, p.in_h, p.in_w, p.kernel, p.stride})
    if (d <= 0) return InvalidArgument("pipeline conv: every dimension must be positive");
  if (p.pad < 0) return InvalidArgument("pipeline conv: negative padding");
  if (p.out_h() <= 0 || p.out_w() <= 0) return InvalidArgument("pipeline conv: input too small for the kernel");
  if (w.n != p.out_c || w.k != p.in_c * p.kernel * p.kernel)
    return InvalidArgument("pipeline conv: weights are [" + std::to_string(w.n) + ", " + std::to_string(w.k) +
                           "], expected [out_c, in_c * k * k] = [" + std::to_string(p.out_c) + ", " +
                           std::to_string(p.in_c * p.kernel * p.kernel) + "]");
  if (!IsInt8(pp.src.type)) return InvalidArgument("pipeline conv: the source must be u8 or s8, got f32");
  EMBODY_TRY(CheckScale(pp.src, "source"));
  EMBODY_TRY(CheckScale(pp.dst, "destination"));
  if (p.residual) {
    EMBODY_TRY(CheckScale(pp.residual, "residual"));
    if (pp.residual_in_place) {
      if (IsInt8(pp.dst.type) != IsInt8(pp.residual.type))
        return InvalidArgument(std::string("pipeline conv: an in-place residual must have the size of the "
                                           "destination type: ") +
                               PipelineTypeName(pp.residual.type) + " into " + PipelineTypeName(pp.dst.type));
    } else if (pp.residual.type != PipelineType::kF32 || pp.residual.scale != pp.dst.scale) {
      return InvalidArgument("pipeline conv: a separate residual must be f32 with the destination's scale (" +
                             std::to_string(pp.dst.scale) + "), got " + PipelineTypeName(pp.residual.type) +
                             " with scale " + std::to_string(pp.residual.scale));
    }
  }
  return Status::Ok();
}

// ---- scalar reference ----

float Store(float v, PipelineType t) {
  if (t == PipelineType::kF32) return v;
  const float lo = t == PipelineType::kU8 ? 0.0f : -128.0f, hi = t == PipelineType::kU8 ? 255.0f : 127.0f;
  v = std::nearbyint(v);
  return v < lo ? lo : (v > hi ? hi : v);
}

float Load(const void* base, size_t i, PipelineType t) {
  switch (t) {
    case PipelineType::kU8: return static_cast<float>(static_cast<const uint8_t*>(base)[i]);
    case PipelineType::kS8: return static_cast<float>(static_cast<const int8_t*>(base)[i]);
    case PipelineType::kF32: return static_cast<const float*>(base)[i];
  }
  return 0.0f;
}

void Put(void* base, size_t i, float v, PipelineType t) {
  switch (t) {
    case PipelineType::kU8: static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(static_cast<int32_t>(v)); break;
    case PipelineType::kS8: static_cast<int8_t*>(base)[i] = static_cast<int8_t>(static_cast<int32_t>(v)); break;
    case PipelineType::kF32: static_cast<float*>(base)[i] = v; break;
  }
}

class RefPipelineConv final : public PipelineConvOp {
 public:
  RefPipelineConv(const PipelineConvParams& p, const PackedWeights& w, const float* bias)
      : p_(p), ep_(quant::MakePipelineEpilogue(p, w, bias)) {
    const ConvParams& c = p.conv;
    // [o][kh][kw][c] so the inner loop walks NHWC channels.
    w_.resize(static_cast<size_t>(c.out_c * c.kernel * c.kernel * c.in_c));
    for (int64_t o = 0; o < c.out_c; ++o)
      for (int64_t ci = 0; ci < c.in_c; ++ci)
        for (int64_t kh = 0; kh < c.kernel; ++kh)
          for (int64_t kw = 0; kw < c.kernel; ++kw)
            w_[static_cast<size_t>(((o * c.kernel + kh) * c.kernel + kw) * c.in_c + ci)] =
                static_cast<int8_t>(w.data[static_cast<size_t>(((o * c.in_c + ci) * c.kernel + kh) * c.kernel + kw)]);
  }
  size_t src_bytes() const override {
    return static_cast<size_t>(p_.conv.in_c * p_.conv.in_h * p_.conv.in_w) * PipelineTypeBytes(p_.src.type);
  }
  size_t dst_bytes() const override {
    return static_cast<size_t>(p_.conv.out_c * p_.conv.out_h() * p_.conv.out_w()) * PipelineTypeBytes(p_.dst.type);
  }
  std::string implementation() const override { return "reference"; }
  void Run(const void* src, void* dst, const void* res) override {
    const ConvParams& c = p_.conv;
    const int64_t oh = c.out_h(), ow = c.out_w(), k = c.kernel;
    if (c.residual && p_.residual_in_place && res != dst) std::memcpy(dst, res, dst_bytes());
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t o = 0; o < c.out_c; ++o) {
          int32_t acc = 0;
          for (int64_t kh = 0; kh < k; ++kh) {
            const int64_t iy = y * c.stride - c.pad + kh;
            if (iy < 0 || iy >= c.in_h) continue;
            for (int64_t kw = 0; kw < k; ++kw) {
              const int64_t ix = x * c.stride - c.pad + kw;
              if (ix < 0 || ix >= c.in_w) continue;
              const size_t in = static_cast<size_t>((iy * c.in_w + ix) * c.in_c);
              const int8_t* wr = w_.data() + ((o * k + kh) * k + kw) * c.in_c;
              for (int64_t ci = 0; ci < c.in_c; ++ci)
                acc += static_cast<int32_t>(Load(src, in + static_cast<size_t>(ci), p_.src.type)) * wr[ci];
            }
          }
          const size_t at = static_cast<size_t>((y * ow + x) * c.out_c + o);
          const auto oi = static_cast<size_t>(o);
          float v = ep_.oscale[oi] * (static_cast<float>(acc) + ep_.bias[oi]);
          if (c.residual) {
            if (p_.residual_in_place)
              v = std::fma(ep_.sum_scale, Load(dst, at, p_.residual.type), v);
            else
              v += static_cast<const float*>(res)[at];
          }
          if (c.relu) v = std::max(v, 0.0f);
          Put(dst, at, Store(v, p_.dst.type), p_.dst.type);
        }
  }

 private:
  PipelineConvParams p_;
  quant::PipelineEpilogue ep_;
  std::vector<int8_t> w_;
};

class RefPipelineMaxPool final : public PoolOp {
 public:
  RefPipelineMaxPool(const PoolParams& p, PipelineType t) : p_(p), t_(t) {}
  size_t dst_bytes() const override { return static_cast<size_t>(p_.channels * p_.out_h() * p_.out_w()); }
  void Run(const void* src, void* dst) override {
    for (int64_t y = 0; y < p_.out_h(); ++y)
      for (int64_t x = 0; x < p_.out_w(); ++x)
        for (int64_t c = 0; c < p_.channels; ++c) {
          float m = -1e9f;  // every window holds at least one real pixel (PyTorch's rule)
          for (int64_t kh = 0; kh < p_.kernel; ++kh)
            for (int64_t kw = 0; kw < p_.kernel; ++kw) {
              const int64_t iy = y * p_.stride - p_.pad + kh, ix = x * p_.stride - p_.pad + kw;
              if (iy < 0 || iy >= p_.in_h || ix < 0 || ix >= p_.in_w) continue;
              m = std::max(m, Load(src, static_cast<size_t>((iy * p_.in_w + ix) * p_.channels + c), t_));
            }
          Put(dst, static_cast<size_t>((y * p_.out_w() + x) * p_.channels + c), m, t_);
        }
  }

 private:
  PoolParams p_;
  PipelineType t_;
};

// (target_clones is off under ASan, as in elementwise.cc.)
#if defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && defined(__x86_64__)
#define EMBODY_PIPELINE_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EMBODY_PIPELINE_MULTIVERSION
#endif

// One image row: w pixels of c planes (stride `plane` floats apart) into NHWC q.
template <typename T>
void QuantizeRow(const float* src, int64_t plane, int64_t c, int64_t w, float inv, float lo, float hi, T* q) {
  for (int64_t ch = 0; ch < c; ++ch) {
    const float* s = src + ch * plane;
    for (int64_t x = 0; x < w; ++x) {
      float v = std::nearbyint(s[x] * inv);
      v = v < lo ? lo : (v > hi ? hi : v);
      q[x * c + ch] = static_cast<T>(static_cast<int32_t>(v));
    }
  }
}
EMBODY_PIPELINE_MULTIVERSION void QuantizeRowU8(const float* src, int64_t plane, int64_t c, int64_t w, float inv,
                                                uint8_t* q) {
  QuantizeRow(src, plane, c, w, inv, 0.0f, 255.0f, q);
}
EMBODY_PIPELINE_MULTIVERSION void QuantizeRowS8(const float* src, int64_t plane, int64_t c, int64_t w, float inv,
                                                int8_t* q) {
  QuantizeRow(src, plane, c, w, inv, -127.0f, 127.0f, q);
}
template <typename T>
EMBODY_PIPELINE_MULTIVERSION void DequantizeChunk(const T* q, int64_t n, float scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(q[i]) * scale;
}

}  // namespace

namespace quant {

PipelineEpilogue MakePipelineEpilogue(const PipelineConvParams& p, const PackedWeights& w, const float* bias) {
  PipelineEpilogue e;
  const auto n = static_cast<size_t>(p.conv.out_c);
  e.oscale.resize(n);
  e.bias.resize(n);
  for (size_t o = 0; o < n; ++o) {
    // An all-zero weight row has scale 0 and acc 0: any positive scale gives the same result.
    const float ws = w.scales[o] > 0 ? w.scales[o] : 1.0f;
    const float in = p.src.scale * ws;
    e.oscale[o] = in / p.dst.scale;
    e.bias[o] = (bias ? bias[o] : 0.0f) / in;
  }
  e.sum_scale = p.conv.residual && p.residual_in_place ? p.residual.scale / p.dst.scale : 1.0f;
  return e;
}

std::unique_ptr<PipelineConvOp> MakeRefPipelineConv(const PipelineConvParams& p, const PackedWeights& w,
                                                    const float* bias) {
  return std::make_unique<RefPipelineConv>(p, w, bias);
}

std::unique_ptr<PoolOp> MakeRefPipelineMaxPool(const PoolParams& p, PipelineType t) {
  return std::make_unique<RefPipelineMaxPool>(p, t);
}

}  // namespace quant

Result<std::unique_ptr<PipelineConvOp>> MakePipelineConv(Backend b, const PipelineConvParams& p,
                                                         const PackedWeights& w, const float* bias) {
  EMBODY_TRY(CheckConv(p, w));
  if (b == Backend::kReference) return quant::MakeRefPipelineConv(p, w, bias);
#ifdef EMBODY_KERNELS_NO_ONEDNN
  return Unimplemented("pipeline conv: this build has no oneDNN (EMBODY_KERNELS_ONLY); use the reference backend");
#else
  return quant::MakeOneDnnPipelineConv(p, w, bias);
#endif
}

Result<std::unique_ptr<PoolOp>> MakePipelineMaxPool(Backend b, const PoolParams& p, PipelineType t) {
  if (!IsInt8(t)) return InvalidArgument("pipeline max pool: the tensor must be u8 or s8");
  for (int64_t d : {p.channels, p.in_h, p.in_w, p.kernel, p.stride})
    if (d <= 0) return InvalidArgument("pipeline max pool: every dimension must be positive");
  if (p.pad < 0 || 2 * p.pad > p.kernel) return InvalidArgument("pipeline max pool: padding must be <= kernel / 2");
  if (p.out_h() <= 0 || p.out_w() <= 0) return InvalidArgument("pipeline max pool: input too small for the kernel");
  if (b == Backend::kReference) return quant::MakeRefPipelineMaxPool(p, t);
#ifdef EMBODY_KERNELS_NO_ONEDNN
  return Unimplemented("pipeline max pool: this build has no oneDNN (EMBODY_KERNELS_ONLY)");
#else
  return quant::MakeOneDnnPipelineMaxPool(p, t);
#endif
}

void QuantizeNchwToNhwc(const float* src, int64_t c, int64_t h, int64_t w, const PipelineTensor& dst, void* out) {
  const float inv = 1.0f / dst.scale;
  const int64_t plane = h * w;
#pragma omp parallel for schedule(static) if (plane * c > 65536)
  for (int64_t y = 0; y < h; ++y) {
    if (dst.type == PipelineType::kU8)
      QuantizeRowU8(src + y * w, plane, c, w, inv, static_cast<uint8_t*>(out) + y * w * c);
    else
      QuantizeRowS8(src + y * w, plane, c, w, inv, static_cast<int8_t*>(out) + y * w * c);
  }
}

void DequantizeNhwc(const void* src, int64_t n, const PipelineTensor& t, float* out) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (chunks > 4)
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t at = i * kChunk, len = std::min(kChunk, n - at);
    if (t.type == PipelineType::kU8)
      DequantizeChunk(static_cast<const uint8_t*>(src) + at, len, t.scale, out + at);
    else if (t.type == PipelineType::kS8)
      DequantizeChunk(static_cast<const int8_t*>(src) + at, len, t.scale, out + at);
    else
      DequantizeChunk(static_cast<const float*>(src) + at, len, t.scale, out + at);
  }
}

}  // namespace embody::kernels
