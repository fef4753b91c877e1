// Reduced-precision weights and the integer kernels that run them (issue 7).
//
// A weight matrix [n, k] (PyTorch Linear layout) is quantized once into a portable PackedWeights
// (the form `embody quantize` writes to disk, specified in FORMATS.md beside this file), and a
// prepared operator is created from it. At creation each kernel repacks the weights into its own
// tile layout; Run() then never allocates.
//
// int8 / int4 run real integer arithmetic: every activation row is quantized to int8 with its own
// scale (dynamically, from the row's max |x|, or with a calibrated static scale), the dot
// products are int8 x int8 (or u8 x s8 with a compensation term) accumulated exactly in int32, and
// only the int32 result is scaled to float. Every optimized path gives bit-identical results to
// the scalar reference for int8 and int4 (same quantized activations, same int32 sums, same float
// epilogue). f16 / bf16 keep 16-bit weights on disk; see FORMATS.md for how each CPU runs them.
//
// Which kernel runs is chosen at creation from the CPU's features (cpu_features.h); the
// environment variable EMBODY_KERNEL_ISA=ref|avx2|avx512vnni|amx|neon|neon-dot forces one (tests,
// debugging). Backend::kReference always selects the scalar reference.
//
// Thread safety: as for every prepared op (kernels/ops.h): Run() may not be called concurrently on
// the same op. Threads: OpenMP, the calling thread's default team.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/ops.h"
#include "kernels/quant/cpu_features.h"

namespace embody::kernels {

enum class WeightFormat { kF32, kF16, kBF16, kInt8, kInt4 };

// "f32", "f16", "bf16", "int8", "int4".
const char* WeightFormatName(WeightFormat f);
// Accepts the names above (and "fp32", "fp16", "i8", "i4"); InvalidArgument naming the accepted
// formats otherwise.
Result<WeightFormat> ParseWeightFormat(const std::string& name);

// Elements of k per int4 scale block.
inline constexpr int64_t kInt4Block = 32;

// Portable storage form of one [n, k] weight matrix (exact byte layout: FORMATS.md).
//   f32:  data = float32 [n, k] row-major (little endian); scales empty.
//   f16:  data = IEEE binary16 [n, k]; scales empty.
//   bf16: data = bfloat16 [n, k] (upper half of float32, round to nearest even); scales empty.
//   int8: data = int8 [n, k], values in [-127, 127]; scales = float32 [n]: w ~ q * scale[row].
//   int4: k padded with zeros to kp = ceil(k / 32) * 32; data = uint8 [n, kp / 2]: byte b of a row
//         holds element 2b in its low nibble and 2b+1 in its high nibble, each stored as q + 8
//         for q in [-7, 7]; scales = float32 [n, kp / 32]: w ~ q * scale[row, col / 32].
struct PackedWeights {
  WeightFormat format = WeightFormat::kF32;
  int64_t n = 0, k = 0;
  std::vector<uint8_t> data;
  std::vector<float> scales;

  // Bytes per row of `data` (k*4, k*2, k*2, k, kp/2) and scales per row (0, 0, 0, 1, kp/32).
  int64_t row_bytes() const;
  int64_t scales_per_row() const;
  // OK when data and scales have the sizes the format and shape require (call after loading from
  // disk); InvalidArgument naming the mismatch otherwise.
  Status Validate() const;
};

// Quantizes weight [n, k] (symmetric, round to nearest even): int8 per output row
// (scale = max|w_row| / 127), int4 per row and block of 32 (scale = max|block| / 7).
Result<PackedWeights> QuantizeWeights(WeightFormat f, int64_t n, int64_t k, const float* weight);
// The float weights the packed form stands for, [n, k] (error analysis, fallbacks).
void DequantizeWeights(const PackedWeights& w, float* out);

struct QuantOptions {
  // Quantize activations with a calibrated scale (int8 value = round(x / activation_scale),
  // clamped to [-127, 127]) instead of per row from the row's max |x|. Linear: per tensor.
  // Convolution: always per tensor; dynamic means the max over the whole input at each run.
  bool static_activation_scale = false;
  float activation_scale = 0;
};

// y = act(x W^T + bias) (+ residual), the LinearOp contract of kernels/ops.h, with row counts up
// to p.m chosen per call (RunRows, any rows <= p.m). y may alias residual (also with an
// activation). p.n and p.k must match w; bias [n] or nullptr is copied.
// Backend::kReference: the scalar reference; Backend::kOneDnn: the fastest kernel for the CPU.
// Errors: InvalidArgument for shape/format mismatches or a bad static scale.
Result<std::unique_ptr<LinearOp>> MakeQuantizedLinear(Backend b, const LinearParams& p, const PackedWeights& w,
                                                      const float* bias, const QuantOptions& q = {});

// Convolution with int8 weights (per output channel; f32/f16/bf16 weights are widened and run as
// the backend's f32 convolution, int4 is an error), the ConvOp contract of kernels/ops.h and the
// backend's activation layout (reference: NCHW; oneDNN: nChw16c, plain NCHW source when
// p.plain_src). w: format kInt8 with n = out_c, k = in_c * kernel * kernel ([out_c, in_c, kh, kw]
// flattened). Activations are quantized per tensor: to u8 when the source is a ReLU output (every
// source except a plain_src image, which must then be >= 0: negatives clamp to 0), to s8 for a
// plain_src image. p.allow_winograd is ignored.
Result<std::unique_ptr<ConvOp>> MakeQuantizedConv(Backend b, const ConvParams& p, const PackedWeights& w,
                                                  const float* bias, const QuantOptions& q = {});

// Which kernel MakeQuantizedLinear(kOneDnn, ...) picks for format f on this CPU (after
// EMBODY_KERNEL_ISA), e.g. "avx512vnni int8 (14x32 vpdpbusd)", for `embody info` and logs.
std::string QuantKernelName(WeightFormat f);

}  // namespace embody::kernels
