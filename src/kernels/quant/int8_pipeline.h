// Convolution pipelines that keep int8 activations between layers (issue 7: the ACT backbone).
//
// The per-op int8 convolution of quant_linear.h takes and returns f32 nChw16c and quantizes its
// input at every call, with a dynamic scale: on a ResNet those extra passes cost more than the
// integer convolution itself. Here a network keeps its activations quantized in NHWC from one
// convolution to the next, every tensor with a scale fixed ahead of time (calibrated):
//
//     real value = stored value * scale          (u8, s8 and f32 alike; f32 usually scale 1)
//
// and each convolution's epilogue (bias, residual sum, ReLU, requantization to the next layer's
// scale) is fused into the convolution, fixed at creation. A network then quantizes once (its
// input, QuantizeNchwToNhwc) and writes f32 once (its last layer, dst type kF32).
//
// Arithmetic of one output (the scalar reference computes exactly this, in this order; oneDNN
// agrees to one unit of the u8/s8 result, and to float rounding for f32):
//   ws = weight scale of the output channel (1 if the channel's weights are all zero)
//   acc  = sum q_src * q_w                                   int32, exact
//   v    = (s_src * ws / s_dst) * (float(acc) + bias / (s_src * ws))
//   v   += residual (in place: (s_res / s_dst) * q_res;  separate: the f32 value as stored)
//   v    = max(v, 0) with ReLU
//   dst  = u8: clamp(nearbyint(v), 0, 255); s8: clamp(nearbyint(v), -128, 127); f32: v
//
// Layouts: every activation is NHWC (channels innermost), batch 1; for [h*w, c] f32 outputs this
// is already the token layout a transformer consumes. Weights: int8 PackedWeights, [out_c,
// in_c*k*k] (OIHW flattened, FORMATS.md).
//
// Backends: kOneDnn = oneDNN 2.6 int8 convolution (AMX brgconv on Sapphire Rapids, VNNI before
// it) with output scales and sum/binary/ReLU post-ops; Unimplemented in builds without oneDNN
// (callers then use the per-op path of quant_linear.h). kReference = the scalar reference (tests).
//
// Thread safety: as for every prepared op: Run() is not reentrant on one op.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "kernels/ops.h"
#include "kernels/quant/quant_linear.h"

namespace embody::kernels {

enum class PipelineType { kU8, kS8, kF32 };
const char* PipelineTypeName(PipelineType t);
size_t PipelineTypeBytes(PipelineType t);

// How one activation tensor is stored: real = stored * scale.
struct PipelineTensor {
  PipelineType type = PipelineType::kU8;
  float scale = 1.0f;
};

struct PipelineConvParams {
  // Shapes, kernel, stride, pad, relu, residual. plain_src and allow_winograd are ignored.
  ConvParams conv;
  PipelineTensor src;  // u8 or s8
  PipelineTensor dst;  // u8, s8 or f32
  // With conv.residual: dst = act(conv + bias + residual).
  //   residual_in_place: Run(src, dst, dst); dst holds the residual on entry, stored as `residual`
  //     (u8/s8 for an int8 dst, f32 for an f32 dst; any scale).
  //   otherwise: Run(src, dst, res) with res a separate f32 NHWC tensor whose scale must equal
  //     dst.scale (the producer writes it in the consumer's units: a pipeline conv with an f32 dst
  //     of that scale).
  bool residual_in_place = true;
  PipelineTensor residual;
};

// A ConvOp whose src_bytes()/dst_bytes() are those of the NHWC tensors.
class PipelineConvOp : public ConvOp {
 public:
  // The implementation it got (e.g. "brgconv:avx512_core_amx_int8", "reference"), for logs.
  virtual std::string implementation() const = 0;
};

// Errors: InvalidArgument naming the field for non-int8 weights, mismatched shapes, a
// non-positive or non-finite scale, an unsupported type combination; Unimplemented for kOneDnn
// in builds without oneDNN. bias [out_c] or nullptr (zeros) is copied.
Result<std::unique_ptr<PipelineConvOp>> MakePipelineConv(Backend b, const PipelineConvParams& p,
                                                         const PackedWeights& w, const float* bias);

// 2-D max pooling of a u8/s8 NHWC tensor (exact: max commutes with the monotone quantization, so
// the scale carries over unchanged).
Result<std::unique_ptr<PoolOp>> MakePipelineMaxPool(Backend b, const PoolParams& p, PipelineType t);

// src: f32 [c, h, w] plain NCHW (an image) -> dst NHWC u8/s8 with q = clamp(nearbyint(x / scale))
// (computed as x * (1 / scale); s8 clamps to [-127, 127], u8 to [0, 255]). Threads: OpenMP.
void QuantizeNchwToNhwc(const float* src, int64_t c, int64_t h, int64_t w, const PipelineTensor& dst, void* out);
// src NHWC u8/s8 (n values) -> f32 real values (q * scale), same layout.
void DequantizeNhwc(const void* src, int64_t n, const PipelineTensor& t, float* out);

}  // namespace embody::kernels
