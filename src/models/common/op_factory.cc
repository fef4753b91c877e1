#include "models/common/op_factory.h"

#include <algorithm>
#include <cmath>

#include "models/common/quantized_store.h"
#include "models/common/weight_table.h"

namespace embody::models {

namespace {

float AbsMaxRows(const float* x, int64_t rows, int64_t cols, int64_t ld) {
  float m = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, std::fabs(x[r * ld + c]));
  }
  return m;
}

// Calibration: records the largest |input| an op sees, then runs it unchanged.
class ObservedLinear final : public kernels::LinearOp {
 public:
  ObservedLinear(std::unique_ptr<kernels::LinearOp> inner, const kernels::LinearParams& p, CapturedOp* rec)
      : inner_(std::move(inner)), k_(p.k), ldx_(p.ldx ? p.ldx : p.k), m_(p.m), rec_(rec) {}
  void Run(const float* x, float* y, const float* residual) override {
    Observe(x, m_);
    inner_->Run(x, y, residual);
  }
  void RunRows(const float* x, int64_t rows, float* y, const float* residual) override {
    Observe(x, rows);
    inner_->RunRows(x, rows, y, residual);
  }

 private:
  void Observe(const float* x, int64_t rows) {
    rec_->activation_absmax = std::max(rec_->activation_absmax, AbsMaxRows(x, rows, k_, ldx_));
    ++rec_->calls;
  }
  std::unique_ptr<kernels::LinearOp> inner_;
  int64_t k_, ldx_, m_;
  CapturedOp* rec_;
};

class ObservedConv final : public kernels::ConvOp {
 public:
  ObservedConv(std::unique_ptr<kernels::ConvOp> inner, CapturedOp* rec) : inner_(std::move(inner)), rec_(rec) {}
  size_t src_bytes() const override { return inner_->src_bytes(); }
  size_t dst_bytes() const override { return inner_->dst_bytes(); }
  void Run(const void* src, void* dst, const void* residual) override {
    const int64_t n = static_cast<int64_t>(inner_->src_bytes() / sizeof(float));
    rec_->activation_absmax = std::max(rec_->activation_absmax, AbsMaxRows(static_cast<const float*>(src), 1, n, n));
    ++rec_->calls;
    inner_->Run(src, dst, residual);
  }

 private:
  std::unique_ptr<kernels::ConvOp> inner_;
  CapturedOp* rec_;
};

}  // namespace

WeightSource StackedRows(const WeightTable& w, std::vector<std::string> weight_keys, std::vector<std::string> bias_keys) {
  return [&w, weight_keys = std::move(weight_keys), bias_keys = std::move(bias_keys)]() -> Result<DenseWeights> {
    DenseWeights d;
    EMBODY_ASSIGN_OR_RETURN(d.weight, w.ReadStacked(weight_keys));
    if (!bias_keys.empty()) {
      EMBODY_ASSIGN_OR_RETURN(d.bias, w.ReadStacked(bias_keys));
    }
    return d;
  };
}

std::vector<std::string> Keys(const std::vector<std::string>& weight_keys, const std::vector<std::string>& bias_keys) {
  std::vector<std::string> k = weight_keys;
  k.insert(k.end(), bias_keys.begin(), bias_keys.end());
  return k;
}

kernels::WeightFormat OpFactory::FormatFor(const std::string& block, const std::string& op_id) const {
  if (o_.store) {
    const StoredOp* s = o_.store->Find(op_id);
    return s ? s->format : kernels::WeightFormat::kF32;
  }
  if (!o_.plan) return kernels::WeightFormat::kF32;
  o_.plan->MarkUsed(op_id);
  return o_.plan->For(block, op_id);
}

kernels::QuantOptions OpFactory::QuantOptionsFor(const std::string& op_id, bool unsigned_activations) const {
  kernels::QuantOptions q;
  if (o_.static_activations && o_.store) {
    const StoredOp* s = o_.store->Find(op_id);
    if (s && s->activation_absmax > 0) {
      // Convolutions over ReLU outputs quantize activations to u8 (0..255), the rest to s8.
      q.static_activation_scale = true;
      q.activation_scale = s->activation_absmax / (unsigned_activations ? 255.0f : 127.0f);
    }
  }
  return q;
}

CapturedOp* OpFactory::Captured(const std::string& block, const std::string& op_id,
                                const std::vector<std::string>& keys, bool conv) {
  if (!o_.capture) return nullptr;
  CapturedOp& c = o_.capture->ops()[op_id];
  c.op_id = op_id;
  c.block = block;
  c.source_keys = keys;
  c.conv = conv;
  return &c;
}

Result<std::unique_ptr<kernels::LinearOp>> OpFactory::Linear(const std::string& block, const std::string& op_id,
                                                             std::vector<std::string> source_keys,
                                                             const kernels::LinearParams& params, bool dynamic,
                                                             const WeightSource& source) {
  const kernels::WeightFormat format = FormatFor(block, op_id);
  ++census_[block][format];
  CapturedOp* cap = Captured(block, op_id, source_keys, false);
  std::unique_ptr<kernels::LinearOp> op;
  if (o_.store && o_.store->Find(op_id)) {
    EMBODY_ASSIGN_OR_RETURN(kernels::PackedWeights packed, o_.store->Packed(op_id));
    EMBODY_ASSIGN_OR_RETURN(std::vector<float> bias, o_.store->Bias(op_id));
    auto made = kernels::MakeQuantizedLinear(o_.backend, params, packed, bias.empty() ? nullptr : bias.data(),
                                             QuantOptionsFor(op_id, false));
    if (!made.ok()) return made.status().WithContext(op_id);
    op = std::move(*made);
  } else {
    auto dense = source();
    if (!dense.ok()) return dense.status().WithContext(op_id);
    if (static_cast<int64_t>(dense->weight.size()) != params.n * params.k) {
      return Internal(op_id + ": source gave " + std::to_string(dense->weight.size()) + " weights for [" +
                      std::to_string(params.n) + ", " + std::to_string(params.k) + "]");
    }
    const float* bias = dense->bias.empty() ? nullptr : dense->bias.data();
    if (format == kernels::WeightFormat::kF32) {
      auto made = dynamic ? kernels::MakeDynamicLinear(o_.backend, params, dense->weight.data(), bias)
                          : kernels::MakeLinear(o_.backend, params, dense->weight.data(), bias);
      if (!made.ok()) return made.status().WithContext(op_id);
      op = std::move(*made);
    } else {
      auto packed = kernels::QuantizeWeights(format, params.n, params.k, dense->weight.data());
      if (!packed.ok()) return packed.status().WithContext(op_id);
      auto made = kernels::MakeQuantizedLinear(o_.backend, params, *packed, bias);
      if (!made.ok()) return made.status().WithContext(op_id);
      op = std::move(*made);
      if (cap) cap->packed = std::move(*packed);
    }
    if (cap) cap->bias = std::move(dense->bias);
  }
  if (cap && o_.capture->observe) return std::unique_ptr<kernels::LinearOp>(new ObservedLinear(std::move(op), params, cap));
  return op;
}

Result<std::unique_ptr<kernels::ConvOp>> OpFactory::Conv(const std::string& block, const std::string& op_id,
                                                         std::vector<std::string> source_keys,
                                                         const kernels::ConvParams& params, const WeightSource& source) {
  const kernels::WeightFormat format = FormatFor(block, op_id);
  ++census_[block][format];
  CapturedOp* cap = Captured(block, op_id, source_keys, true);
  const int64_t n = params.out_c, k = params.in_c * params.kernel * params.kernel;
  std::unique_ptr<kernels::ConvOp> op;
  if (o_.store && o_.store->Find(op_id)) {
    EMBODY_ASSIGN_OR_RETURN(kernels::PackedWeights packed, o_.store->Packed(op_id));
    EMBODY_ASSIGN_OR_RETURN(std::vector<float> bias, o_.store->Bias(op_id));
    auto made = kernels::MakeQuantizedConv(o_.backend, params, packed, bias.data(), QuantOptionsFor(op_id, !params.plain_src));
    if (!made.ok()) return made.status().WithContext(op_id);
    op = std::move(*made);
  } else {
    auto dense = source();
    if (!dense.ok()) return dense.status().WithContext(op_id);
    if (static_cast<int64_t>(dense->weight.size()) != n * k || static_cast<int64_t>(dense->bias.size()) != n) {
      return Internal(op_id + ": source gave a weight or bias of the wrong size");
    }
    if (format == kernels::WeightFormat::kF32) {
      auto made = kernels::MakeConv(o_.backend, params, dense->weight.data(), dense->bias.data());
      if (!made.ok()) return made.status().WithContext(op_id);
      op = std::move(*made);
    } else {
      auto packed = kernels::QuantizeWeights(format, n, k, dense->weight.data());
      if (!packed.ok()) return packed.status().WithContext(op_id);
      auto made = kernels::MakeQuantizedConv(o_.backend, params, *packed, dense->bias.data());
      if (!made.ok()) return made.status().WithContext(op_id);
      op = std::move(*made);
      if (cap) cap->packed = std::move(*packed);
    }
    if (cap) cap->bias = std::move(dense->bias);
  }
  if (cap && o_.capture->observe) return std::unique_ptr<kernels::ConvOp>(new ObservedConv(std::move(op), cap));
  return op;
}

Result<PreparedConv> OpFactory::PrepareConv(const std::string& block, const std::string& op_id,
                                            const kernels::ConvParams& params, const WeightSource& source) {
  PreparedConv pc;
  pc.format = FormatFor(block, op_id);
  if (o_.capture) return FailedPrecondition(op_id + ": ops are being captured; build it with Conv()");
  if (pc.format == kernels::WeightFormat::kF32) return FailedPrecondition(op_id + ": planned f32, nothing to prepare");
  ++census_[block][pc.format];
  const int64_t n = params.out_c, k = params.in_c * params.kernel * params.kernel;
  if (o_.store && o_.store->Find(op_id)) {
    EMBODY_ASSIGN_OR_RETURN(pc.packed, o_.store->Packed(op_id));
    EMBODY_ASSIGN_OR_RETURN(pc.bias, o_.store->Bias(op_id));
    if (o_.static_activations) pc.activation_absmax = o_.store->Find(op_id)->activation_absmax;
  } else {
    auto dense = source();
    if (!dense.ok()) return dense.status().WithContext(op_id);
    if (static_cast<int64_t>(dense->weight.size()) != n * k || static_cast<int64_t>(dense->bias.size()) != n) {
      return Internal(op_id + ": source gave a weight or bias of the wrong size");
    }
    auto packed = kernels::QuantizeWeights(pc.format, n, k, dense->weight.data());
    if (!packed.ok()) return packed.status().WithContext(op_id);
    pc.packed = std::move(*packed);
    pc.bias = std::move(dense->bias);
  }
  if (pc.packed.n != n || pc.packed.k != k) {
    return InvalidArgument(op_id + ": stored weights are [" + std::to_string(pc.packed.n) + ", " +
                           std::to_string(pc.packed.k) + "], the layer needs [" + std::to_string(n) + ", " +
                           std::to_string(k) + "]");
  }
  return pc;
}

Status OpFactory::CheckPlanFullyUsed() const {
  if (!o_.plan || o_.store) return Status::Ok();
  const std::vector<std::string> unused = o_.plan->UnusedOverrides();
  if (unused.empty()) return Status::Ok();
  std::string list;
  for (const std::string& u : unused) list += (list.empty() ? "" : ", ") + u;
  return InvalidArgument("precision plan: override(s) matching no layer of this model: " + list);
}

}  // namespace embody::models
