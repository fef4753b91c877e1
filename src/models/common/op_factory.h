// OpFactory: the one place a model turns weights into prepared ops, so that the precision plan,
// a quantized checkpoint and the quantizer's capture apply to every layer the same way.
//
// Each op has a stable id (its LeRobot module path, e.g. "model.encoder.layers.0.linear1") and
// belongs to a block ("backbone", "vision", "llm", ...). The factory asks the plan for the op's
// format, then either
//   * takes the op's packed weights from a quantized checkpoint (QuantizedStore), without
//     reading its source tensors at all, or
//   * calls the op's source (reads and transforms the float weights: BN folding, q|k|v fusion),
//     quantizes them if the plan says so, and builds the op.
// With a QuantCapture attached it also hands every op's packed weights to the quantizer and can
// wrap ops in observers that record activation ranges for static calibration.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/ops.h"
#include "kernels/quant/quant_linear.h"
#include "models/common/precision_plan.h"

namespace embody::models {

class QuantizedStore;

// Float weights of one op as the source produces them: weight [n, k] (convolutions flatten
// [out_c, in_c, kh, kw] to [out_c, in_c*kh*kw]), bias [n] or empty.
struct DenseWeights {
  std::vector<float> weight;
  std::vector<float> bias;
};
using WeightSource = std::function<Result<DenseWeights>()>;
class WeightTable;
// The common source: the rows of `weight_keys` stacked (fused q|k|v, gate|up), and the
// concatenation of `bias_keys` (none: no bias).
WeightSource StackedRows(const WeightTable& w, std::vector<std::string> weight_keys,
                         std::vector<std::string> bias_keys = {});
// weight_keys followed by bias_keys: the op's source tensors.
std::vector<std::string> Keys(const std::vector<std::string>& weight_keys, const std::vector<std::string>& bias_keys = {});

// What `embody quantize` collects while a model loads and runs calibration inputs.
struct CapturedOp {
  std::string op_id, block;
  std::vector<std::string> source_keys;  // checkpoint tensors the op was built from
  bool conv = false;
  kernels::PackedWeights packed;          // empty data for f32 ops (they stay in model.safetensors)
  std::vector<float> bias;
  float activation_absmax = 0;            // max |input| seen by the observer (calibration)
  int64_t calls = 0;
};
class QuantCapture {
 public:
  // Observers on every op: record input ranges during calibration runs.
  bool observe = false;
  std::map<std::string, CapturedOp>& ops() { return ops_; }
  const std::map<std::string, CapturedOp>& ops() const { return ops_; }

 private:
  std::map<std::string, CapturedOp> ops_;
};

struct FactoryOptions {
  kernels::Backend backend = kernels::Backend::kOneDnn;
  const PrecisionPlan* plan = nullptr;         // nullptr: all f32
  const QuantizedStore* store = nullptr;       // a quantized checkpoint's packed ops, or nullptr
  QuantCapture* capture = nullptr;             // embody quantize only
  // Quantize activations with the calibrated per-op ranges stored in the checkpoint instead of
  // per row at run time.
  bool static_activations = false;
};

// What Conv() would build a quantized convolution from, for models that fuse their own int8
// pipelines (the ACT backbone, kernels/quant/int8_pipeline.h) instead of one op per layer.
struct PreparedConv {
  kernels::WeightFormat format = kernels::WeightFormat::kF32;
  kernels::PackedWeights packed;  // [out_c, in_c*k*k] in `format`
  std::vector<float> bias;        // [out_c] (may be empty: zeros)
  // The calibrated max |input| a quantized checkpoint stores for the op, when it was made with
  // static activations (embody quantize --static-activations); 0 otherwise.
  float activation_absmax = 0;
};

class OpFactory {
 public:
  explicit OpFactory(const FactoryOptions& options) : o_(options) {}

  // A linear layer; `dynamic` makes one whose row count is chosen per call (MakeDynamicLinear).
  Result<std::unique_ptr<kernels::LinearOp>> Linear(const std::string& block, const std::string& op_id,
                                                    std::vector<std::string> source_keys,
                                                    const kernels::LinearParams& params, bool dynamic,
                                                    const WeightSource& source);
  // A convolution (weight [out_c, in_c*k*k] from the source).
  Result<std::unique_ptr<kernels::ConvOp>> Conv(const std::string& block, const std::string& op_id,
                                                std::vector<std::string> source_keys,
                                                const kernels::ConvParams& params, const WeightSource& source);

  // The format the plan or the quantized checkpoint gives an op, without building it.
  kernels::WeightFormat PlannedFormat(const std::string& block, const std::string& op_id) const {
    return FormatFor(block, op_id);
  }
  // True while `embody quantize` captures ops: models must then build every op through
  // Linear()/Conv(), whose observers see f32 activations.
  bool capturing() const { return o_.capture != nullptr; }
  // Whether op `op_id` of `block` computes below f32 (plan or quantized checkpoint): the layers
  // around it then also run their attention in bf16 (kernels::AttentionParams::bf16).
  bool LowPrecision(const std::string& block, const std::string& op_id) const {
    return FormatFor(block, op_id) != kernels::WeightFormat::kF32;
  }
  // The packed weights (from the quantized checkpoint, or the source quantized to the planned
  // format) and calibration of a convolution whose planned format is not f32, counted in the
  // census like Conv(). FailedPrecondition for an f32 op or while capturing.
  Result<PreparedConv> PrepareConv(const std::string& block, const std::string& op_id,
                                   const kernels::ConvParams& params, const WeightSource& source);

  kernels::Backend backend() const { return o_.backend; }
  // Per-layer overrides of the plan that matched no op: an error the model reports after load.
  Status CheckPlanFullyUsed() const;
  // Ops built, per block and format (for `embody info` and logs).
  const std::map<std::string, std::map<kernels::WeightFormat, int>>& census() const { return census_; }

 private:
  kernels::WeightFormat FormatFor(const std::string& block, const std::string& op_id) const;
  kernels::QuantOptions QuantOptionsFor(const std::string& op_id, bool unsigned_activations) const;
  CapturedOp* Captured(const std::string& block, const std::string& op_id,
                       const std::vector<std::string>& keys, bool conv);

  FactoryOptions o_;
  std::map<std::string, std::map<kernels::WeightFormat, int>> census_;
};

}  // namespace embody::models
