#include "models/act/act_backbone.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "models/act/act_weights.h"

namespace embody::models::act {

namespace {

constexpr float kFrozenBnEps = 1e-5f;
constexpr const char* kBlock = "backbone";

// One convolution of the trunk: its weights' names and shape.
struct Layer {
  std::string conv_key, bn_prefix;
  kernels::ConvParams p;
  std::string op_id() const { return conv_key.substr(0, conv_key.size() - std::string(".weight").size()); }
};

// Reads conv weight `conv_key` and BN `bn_prefix` and folds the BN into them.
WeightSource FoldedSource(const WeightTable& w, const Layer& l) {
  return [&w, l]() -> Result<DenseWeights> {
    const std::string& bn_prefix = l.bn_prefix;
    EMBODY_ASSIGN_OR_RETURN(Tensor weight, w.ReadF32(l.conv_key));
    EMBODY_ASSIGN_OR_RETURN(Tensor gamma, w.ReadF32(bn_prefix + ".weight"));
    EMBODY_ASSIGN_OR_RETURN(Tensor beta, w.ReadF32(bn_prefix + ".bias"));
    EMBODY_ASSIGN_OR_RETURN(Tensor mean, w.ReadF32(bn_prefix + ".running_mean"));
    EMBODY_ASSIGN_OR_RETURN(Tensor var, w.ReadF32(bn_prefix + ".running_var"));
    const int64_t per_out = weight.numel() / l.p.out_c;
    std::vector<float> bias(static_cast<size_t>(l.p.out_c));
    float* wd = weight.data<float>();
    for (int64_t o = 0; o < l.p.out_c; ++o) {
      // Same float32 arithmetic as torchvision's FrozenBatchNorm2d.
      const float scale = gamma.data<float>()[o] * (1.0f / std::sqrt(var.data<float>()[o] + kFrozenBnEps));
      bias[static_cast<size_t>(o)] = beta.data<float>()[o] - mean.data<float>()[o] * scale;
      for (int64_t i = 0; i < per_out; ++i) wd[o * per_out + i] *= scale;
    }
    return DenseWeights{std::vector<float>(wd, wd + weight.numel()), std::move(bias)};
  };
}

std::vector<std::string> SourceKeys(const Layer& l) {
  return {l.conv_key, l.bn_prefix + ".weight", l.bn_prefix + ".bias", l.bn_prefix + ".running_mean",
          l.bn_prefix + ".running_var"};
}

Result<std::unique_ptr<kernels::ConvOp>> FoldedConv(const WeightTable& w, OpFactory& factory, const Layer& l) {
  return factory.Conv(kBlock, l.op_id(), SourceKeys(l), l.p, FoldedSource(w, l));
}

float AbsMax(const float* x, int64_t n) {
  float m = 0.0f;
#pragma omp parallel for reduction(max : m) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

double StdDev(const float* x, int64_t n) {
  double sum = 0, sq = 0;
#pragma omp parallel for reduction(+ : sum, sq) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    sum += x[i];
    sq += static_cast<double>(x[i]) * x[i];
  }
  const double mean = sum / static_cast<double>(n);
  return std::sqrt(std::max(0.0, sq / static_cast<double>(n) - mean * mean));
}

// A tensor's encoding from its calibrated max |value| (a dead tensor, max 0, gets a tiny scale:
// it quantizes to zeros as it should).
kernels::PipelineTensor Encoding(kernels::PipelineType t, float absmax) {
  const float qmax = t == kernels::PipelineType::kS8 ? 127.0f : 255.0f;
  return {t, std::max(absmax, 1e-6f) / qmax};
}

size_t Numel(const kernels::ConvParams& p, bool out) {
  return static_cast<size_t>(out ? p.out_c * p.out_h() * p.out_w() : p.in_c * p.in_h * p.in_w);
}

}  // namespace

Result<std::unique_ptr<ResNetBackbone>> ResNetBackbone::Create(const ActConfig& c, const WeightTable& w,
                                                               OpFactory& factory, int64_t height,
                                                               int64_t width, bool winograd, Arena& arena) {
  auto bb = std::make_unique<ResNetBackbone>();
  bb->backend_ = factory.backend();
  bb->in_h_ = height;
  bb->in_w_ = width;
  // The trunk's convolutions in execution order: stem, then per block conv1, conv2 (, downsample).
  std::vector<Layer> layers;
  layers.push_back({"model.backbone.conv1.weight", "model.backbone.bn1",
                    kernels::ConvParams{3, 64, height, width, 7, 2, 3, true, false, true}});
  const kernels::PoolParams pool{64, layers[0].p.out_h(), layers[0].p.out_w(), 3, 2, 1};
  std::vector<bool> has_downsample;
  int64_t h = pool.out_h(), wd = pool.out_w(), in_ch = 64;
  for (int s = 0; s < 4; ++s) {
    const int64_t ch = ResNetChannels(s);
    for (int b = 0; b < ResNetBlocks(c, s); ++b) {
      const std::string p = "model.backbone.layer" + std::to_string(s + 1) + "." + std::to_string(b);
      const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
      const int64_t cin = b == 0 ? in_ch : ch;
      kernels::ConvParams p1{cin, ch, h, wd, 3, stride, 1, true, false, false, winograd};
      kernels::ConvParams p2{ch, ch, p1.out_h(), p1.out_w(), 3, 1, 1, true, true, false, winograd};
      layers.push_back({p + ".conv1.weight", p + ".bn1", p1});
      layers.push_back({p + ".conv2.weight", p + ".bn2", p2});
      has_downsample.push_back(b == 0 && s > 0);
      if (has_downsample.back())
        layers.push_back({p + ".downsample.0.weight", p + ".downsample.1",
                          kernels::ConvParams{cin, ch, h, wd, 1, 2, 0, false, false, false}});
      h = p1.out_h();
      wd = p1.out_w();
    }
    in_ch = ch;
  }
  bb->out_h_ = h;
  bb->out_w_ = wd;
  bb->has_downsample_ = has_downsample;

  // int8 pipeline when every convolution is planned int8 and the quantizer is not observing.
  bool all_int8 = !factory.capturing(), any_quantized = false;
  for (const Layer& l : layers) {
    const kernels::WeightFormat f = factory.PlannedFormat(kBlock, l.op_id());
    all_int8 = all_int8 && f == kernels::WeightFormat::kInt8;
    any_quantized = any_quantized || f != kernels::WeightFormat::kF32;
  }
  if (any_quantized) bb->mode_ = Mode::kInt8PerOp;  // unless the pipeline applies (below)
  bool stored_scales = false;
  if (all_int8) {
    stored_scales = true;
    for (const Layer& l : layers) {
      auto prepared = factory.PrepareConv(kBlock, l.op_id(), l.p, FoldedSource(w, l));
      if (!prepared.ok()) return prepared.status();
      stored_scales = stored_scales && prepared->activation_absmax > 0;
      bb->int8_.push_back({l.op_id(), l.p, std::move(*prepared)});
    }
    auto pipe_pool = kernels::MakePipelineMaxPool(bb->backend_, pool, kernels::PipelineType::kU8);
    if (pipe_pool.ok()) {
      bb->pipe_pool_ = std::move(*pipe_pool);
      bb->mode_ = stored_scales ? Mode::kPipeline : Mode::kCalibrating;
      bb->calib_runs_left_ = std::max<int>(1, static_cast<int>(c.num_cameras()));
    } else if (pipe_pool.status().code() == StatusCode::kUnimplemented) {
      bb->mode_ = Mode::kInt8PerOp;  // no oneDNN in this build
    } else {
      return pipe_pool.status().WithContext("backbone max pool");
    }
  }

  // The per-op ops: f32 / mixed / capturing through the factory, int8 from the prepared weights.
  if (bb->mode_ != Mode::kPipeline) {
    size_t li = 0;
    auto next = [&]() -> Result<std::unique_ptr<kernels::ConvOp>> {
      const size_t i = li++;
      if (!all_int8) return FoldedConv(w, factory, layers[i]);
      const Int8Conv& q = bb->int8_[i];
      kernels::QuantOptions o;  // dynamic per tensor unless the checkpoint has calibrated ranges
      if (stored_scales) {
        o.static_activation_scale = true;
        o.activation_scale = Encoding(i == 0 ? kernels::PipelineType::kS8 : kernels::PipelineType::kU8,
                                      q.prepared.activation_absmax)
                                 .scale;
      }
      auto op = kernels::MakeQuantizedConv(bb->backend_, q.params, q.prepared.packed,
                                           q.prepared.bias.empty() ? nullptr : q.prepared.bias.data(), o);
      if (!op.ok()) return op.status().WithContext(q.id);
      return std::move(*op);
    };
    EMBODY_ASSIGN_OR_RETURN(bb->stem_, next());
    size_t max_bytes = bb->stem_->dst_bytes();
    EMBODY_ASSIGN_OR_RETURN(bb->pool_, kernels::MakeMaxPool(bb->backend_, pool));
    max_bytes = std::max(max_bytes, bb->pool_->dst_bytes());
    for (bool ds : has_downsample) {
      Block blk;
      EMBODY_ASSIGN_OR_RETURN(blk.conv1, next());
      EMBODY_ASSIGN_OR_RETURN(blk.conv2, next());
      if (ds) {
        EMBODY_ASSIGN_OR_RETURN(blk.downsample, next());
      }
      max_bytes = std::max({max_bytes, blk.conv1->dst_bytes(), blk.conv2->dst_bytes()});
      bb->blocks_.push_back(std::move(blk));
    }
    EMBODY_ASSIGN_OR_RETURN(bb->to_tokens_, kernels::MakeToTokens(bb->backend_, kOutChannels, h, wd));
    bb->perop_bytes_ = max_bytes;
    // A calibrating backbone runs the per-op path once, on buffers it allocates for that run.
    if (bb->mode_ != Mode::kCalibrating)
      for (size_t& off : bb->buf_offset_) off = arena.Reserve(max_bytes);
  }
  if (bb->mode_ == Mode::kInt8PerOp) bb->int8_.clear();  // the ops hold their own copies

  if (bb->mode_ == Mode::kPipeline || bb->mode_ == Mode::kCalibrating) {
    size_t act = Numel(layers[0].p, true), shortcut = 0;
    for (size_t i = 1; i < layers.size(); ++i) {
      act = std::max(act, Numel(layers[i].p, true));
      const bool is_downsample = layers[i].p.kernel == 1;
      if (is_downsample && i + 1 < layers.size()) shortcut = std::max(shortcut, Numel(layers[i].p, true));
    }
    bb->pipe_offset_[0] = arena.Reserve(Numel(layers[0].p, false));
    bb->pipe_offset_[1] = arena.Reserve(act);
    bb->pipe_offset_[2] = arena.Reserve(act);
    bb->pipe_offset_[3] = arena.Reserve(std::max<size_t>(shortcut, 1) * sizeof(float));
    if (bb->mode_ == Mode::kPipeline) {
      std::vector<float> absmax;
      for (const Int8Conv& q : bb->int8_) absmax.push_back(q.prepared.activation_absmax);
      EMBODY_TRY(bb->BuildPipeline(absmax));
      bb->int8_.clear();
    }
  }
  return bb;
}

Status ResNetBackbone::BuildPipeline(const std::vector<float>& absmax) {
  using kernels::PipelineType;
  using kernels::PipelineTensor;
  // Int8Conv indices of each block's convolutions.
  struct Idx {
    size_t conv1, conv2, ds;
  };
  std::vector<Idx> idx;
  size_t i = 1;
  for (bool ds : has_downsample_) {
    idx.push_back({i, i + 1, ds ? i + 2 : 0});
    i += ds ? 3 : 2;
  }
  // Convolution i as the layer is, or with its epilogue moved (relu/residual overridden).
  auto make_as = [&](size_t i, const PipelineTensor& src, const PipelineTensor& dst, bool in_place,
                     const PipelineTensor& res, bool relu,
                     bool residual) -> Result<std::unique_ptr<kernels::PipelineConvOp>> {
    kernels::PipelineConvParams p;
    p.conv = int8_[i].params;
    p.conv.relu = relu;
    p.conv.residual = residual;
    p.src = src;
    p.dst = dst;
    p.residual_in_place = in_place;
    p.residual = res;
    const PreparedConv& pc = int8_[i].prepared;
    auto op = kernels::MakePipelineConv(backend_, p, pc.packed, pc.bias.empty() ? nullptr : pc.bias.data());
    if (!op.ok()) return op.status().WithContext(int8_[i].id);
    return op;
  };
  auto make = [&](size_t i, const PipelineTensor& src, const PipelineTensor& dst, bool in_place,
                  const PipelineTensor& res) {
    return make_as(i, src, dst, in_place, res, int8_[i].params.relu, int8_[i].params.residual);
  };
  image_enc_ = Encoding(PipelineType::kS8, absmax[0]);
  block_in_.clear();
  for (const Idx& b : idx) block_in_.push_back(Encoding(PipelineType::kU8, absmax[b.conv1]));
  // Max pooling keeps the stem's scale: the stem writes in the first block's input encoding.
  EMBODY_ASSIGN_OR_RETURN(pipe_stem_, make(0, image_enc_, block_in_[0], false, {}));
  pipe_blocks_.clear();
  for (size_t b = 0; b < idx.size(); ++b) {
    const bool last = b + 1 == idx.size();
    const PipelineTensor mid = Encoding(PipelineType::kU8, absmax[idx[b].conv2]);
    // The last block writes the f32 tokens (real values); the others the next block's input.
    const PipelineTensor out = last ? PipelineTensor{PipelineType::kF32, 1.0f} : block_in_[b + 1];
    const PipelineTensor f32_out{PipelineType::kF32, out.scale};
    PipeBlock pb;
    EMBODY_ASSIGN_OR_RETURN(pb.conv1, make(idx[b].conv1, block_in_[b], mid, false, {}));
    if (idx[b].ds && !last) {
      // conv2 writes its sum in f32 in the block output's units (no range to calibrate, no
      // rounding), and the 1x1 downsample adds it, applies the ReLU and requantizes: oneDNN's
      // fast (brgemm) kernels take no second input, and the 1x1 is the cheaper one to lose them.
      EMBODY_ASSIGN_OR_RETURN(pb.conv2, make_as(idx[b].conv2, mid, f32_out, false, {}, false, false));
      EMBODY_ASSIGN_OR_RETURN(pb.downsample, make_as(idx[b].ds, block_in_[b], out, false, f32_out, true, true));
    } else if (idx[b].ds) {
      // Last block: the shortcut goes straight into the f32 tokens, conv2 accumulates onto it.
      EMBODY_ASSIGN_OR_RETURN(pb.downsample, make(idx[b].ds, block_in_[b], f32_out, false, {}));
      EMBODY_ASSIGN_OR_RETURN(pb.conv2, make(idx[b].conv2, mid, out, true, f32_out));
    } else {
      // Identity shortcut: the block input itself (dequantized into the tokens for the last one).
      EMBODY_ASSIGN_OR_RETURN(pb.conv2, make(idx[b].conv2, mid, out, true, last ? f32_out : block_in_[b]));
    }
    pipe_blocks_.push_back(std::move(pb));
  }
  return Status::Ok();
}

void ResNetBackbone::BindArena(const Arena& arena) {
  if (mode_ == Mode::kF32 || mode_ == Mode::kInt8PerOp)
    for (int i = 0; i < 3; ++i) buf_[i] = arena.At(buf_offset_[i]);
  if (mode_ == Mode::kPipeline || mode_ == Mode::kCalibrating)
    for (int i = 0; i < 4; ++i) pipe_[i] = arena.At(pipe_offset_[i]);
}

std::string ResNetBackbone::mode() const {
  switch (mode_) {
    case Mode::kF32: return "f32";
    case Mode::kInt8PerOp: return "int8 per op";
    case Mode::kCalibrating: return "int8 pipeline (calibrating on the first observation)";
    case Mode::kPipeline: return "int8 pipeline";
  }
  return "?";
}

void ResNetBackbone::Run(const float* image, float* tokens) {
  switch (mode_) {
    case Mode::kF32:
    case Mode::kInt8PerOp: RunPerOp(image, tokens, buf_, nullptr); return;
    case Mode::kPipeline: RunPipeline(image, tokens); return;
    case Mode::kCalibrating: break;
  }
  // The first images (one per camera: the first observation): the per-op int8 path (its result
  // is this run's output) records every convolution's input range; the pipeline is built from
  // them for the runs that follow.
  const size_t stride = perop_bytes_ / sizeof(float) + 16;
  if (calib_buf_.empty()) calib_buf_.assign(3 * stride, 0.0f);
  void* bufs[3];
  for (int i = 0; i < 3; ++i) bufs[i] = calib_buf_.data() + static_cast<size_t>(i) * stride;
  std::vector<float> absmax;
  RunPerOp(image, tokens, bufs, &absmax);
  if (calib_absmax_.empty()) calib_absmax_.assign(absmax.size(), 0.0f);
  for (size_t i = 0; i < absmax.size(); ++i) calib_absmax_[i] = std::max(calib_absmax_[i], absmax[i]);
  // A blank image (a camera's dark first frames) says nothing about later ranges: it does not
  // count, unless the backbone has seen nothing else for a long while.
  const bool blank = StdDev(image, 3 * in_h_ * in_w_) < kBlankImageStd;
  ++calib_runs_seen_;
  if (!blank || calib_runs_seen_ >= kMaxCalibrationRuns) --calib_runs_left_;
  if (calib_runs_left_ > 0) return;
  for (float& a : calib_absmax_) a *= kCalibrationHeadroom;
  const Status built = BuildPipeline(calib_absmax_);
  if (!built.ok()) {
    std::fprintf(stderr, "embody: ACT backbone: cannot build the int8 pipeline (%s); staying on the per-op int8 path\n",
                 built.ToString().c_str());
    for (int i = 0; i < 3; ++i) buf_[i] = bufs[i];
    mode_ = Mode::kInt8PerOp;
    int8_.clear();
    return;
  }
  mode_ = Mode::kPipeline;
  int8_.clear();
  calib_buf_ = std::vector<float>();
  calib_absmax_ = std::vector<float>();
  stem_.reset();
  pool_.reset();
  blocks_.clear();
  to_tokens_.reset();
}

void ResNetBackbone::RunPerOp(const float* image, float* tokens, void* const buf[3], std::vector<float>* absmax) {
  auto observe = [&](const kernels::ConvOp& op, const void* src) {
    if (absmax)
      absmax->push_back(AbsMax(static_cast<const float*>(src), static_cast<int64_t>(op.src_bytes() / sizeof(float))));
  };
  // Three rotating buffers: block input/output, block middle, and the downsampled shortcut.
  // conv2 accumulates onto the shortcut in place, so no block copies anything.
  observe(*stem_, image);
  stem_->Run(image, buf[1]);
  pool_->Run(buf[1], buf[0]);
  int cur = 0;
  for (Block& b : blocks_) {
    const int mid = (cur + 1) % 3, other = (cur + 2) % 3;
    observe(*b.conv1, buf[cur]);
    b.conv1->Run(buf[cur], buf[mid]);
    observe(*b.conv2, buf[mid]);
    if (b.downsample) {
      observe(*b.downsample, buf[cur]);
      b.downsample->Run(buf[cur], buf[other]);
      b.conv2->Run(buf[mid], buf[other], buf[other]);  // accumulate onto the shortcut
      cur = other;
    } else {
      b.conv2->Run(buf[mid], buf[cur], buf[cur]);  // accumulate onto the block input
    }
  }
  to_tokens_->Run(buf[cur], tokens);
}

void ResNetBackbone::RunPipeline(const float* image, float* tokens) {
  void* image_q = pipe_[0];
  void* cur = pipe_[2];
  void* mid = pipe_[1];
  auto* shortcut = static_cast<float*>(pipe_[3]);
  kernels::QuantizeNchwToNhwc(image, 3, in_h_, in_w_, image_enc_, image_q);
  pipe_stem_->Run(image_q, mid);
  pipe_pool_->Run(mid, cur);
  for (size_t b = 0; b < pipe_blocks_.size(); ++b) {
    PipeBlock& pb = pipe_blocks_[b];
    pb.conv1->Run(cur, mid);
    if (b + 1 == pipe_blocks_.size()) {
      if (pb.downsample)
        pb.downsample->Run(cur, tokens);
      else
        kernels::DequantizeNhwc(cur, static_cast<int64_t>(pb.conv1->src_bytes()), block_in_[b], tokens);
      pb.conv2->Run(mid, tokens, tokens);
    } else if (pb.downsample) {
      pb.conv2->Run(mid, shortcut);
      pb.downsample->Run(cur, mid, shortcut);  // conv1's output is consumed: its buffer takes the output
      std::swap(cur, mid);
    } else {
      pb.conv2->Run(mid, cur, cur);  // identity shortcut, accumulated in place
    }
  }
}

}  // namespace embody::models::act
