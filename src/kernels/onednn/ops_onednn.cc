#include "kernels/onednn/ops_onednn.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "kernels/elementwise.h"
#include "kernels/onednn/dnnl_util.h"

#include <cstring>
#include <dnnl.hpp>
#include <unordered_map>
#include <vector>

namespace embody::kernels::onednn {

namespace {

using dnnl::memory;
using dnnl_util::Engine;
using dnnl_util::Guard;
using dnnl_util::OwnScratchpad;
using dnnl_util::Scratchpad;
using tag = memory::format_tag;
using dt = memory::data_type;

std::string g_last_conv_impl;

// A primitive with its argument map, executed with new data handles each run.
struct Bound {
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  void Execute(dnnl::stream& s) { prim.execute(s, args); }
};

// Binds the primitive's own scratchpad (dnnl_util::OwnScratchpad says why).
void BindScratchpad(Bound& b, const memory::desc& scratch) {
  if (scratch.get_size() > 0) b.args[DNNL_ARG_SCRATCHPAD] = Scratchpad(scratch);
}

memory::dims Strided2D(int64_t ld) { return {ld, 1}; }

// Copies a constant tensor in `user_md` layout into the layout the primitive wants.
memory Pack(const memory::desc& user_md, const void* data, const memory::desc& want, dnnl::stream& s) {
  memory user(user_md, Engine(), const_cast<void*>(data));
  memory packed(want, Engine());
  if (user_md == want) {
    std::memcpy(packed.get_data_handle(), data, want.get_size());
  } else {
    dnnl::reorder(user, packed).execute(s, user, packed);
    s.wait();
  }
  return packed;
}

class DnnlLinear final : public LinearOp {
 public:
  static Result<std::unique_ptr<LinearOp>> Create(LinearParams p, const float* w, const float* b) {
    return Guard("linear", [&]() -> Result<std::unique_ptr<LinearOp>> {
      if (!p.ldx) p.ldx = p.k;
      if (!p.ldy) p.ldy = p.n;
      if (!p.ldr) p.ldr = p.n;
      auto op = std::unique_ptr<DnnlLinear>(new DnnlLinear());
      op->residual_ = p.residual;
      op->rows_ = p.m;
      op->n_ = p.n;
      op->ldy_ = p.ldy;
      op->ldr_ = p.ldr;
      memory::desc src_md({p.m, p.k}, dt::f32, Strided2D(p.ldx));
      memory::desc dst_md({p.m, p.n}, dt::f32, Strided2D(p.ldy));
      memory::desc w_any({p.k, p.n}, dt::f32, tag::any);
      memory::desc w_user({p.k, p.n}, dt::f32, tag::ba);  // torch [n, k] row-major
      memory::desc b_md({1, p.n}, dt::f32, tag::ab);
      dnnl::post_ops po;
      if (p.act == Activation::kRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      if (p.act == Activation::kGelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
      if (p.act == Activation::kGeluTanh) po.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_tanh, 0.f, 0.f);
      if (p.act == Activation::kSilu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_swish, 1.f, 0.f);
      // The residual is accumulated into dst with a sum post-op, after the activation. A
      // binary-add post-op reading the residual from dst's own memory is wrong: the matmul
      // uses dst as its accumulator across K blocks before the post-ops run.
      if (p.residual) po.append_sum(1.f);
      dnnl::primitive_attr attr = OwnScratchpad();
      attr.set_post_ops(po);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, w_any, b_md, dst_md), attr, Engine());
      auto& s = op->stream_;
      op->weights_ = Pack(w_user, w, pd.weights_desc(), s);
      std::vector<float> zero;
      if (!b) zero.assign(static_cast<size_t>(p.n), 0.f);
      op->bias_ = memory(b_md, Engine());
      std::memcpy(op->bias_.get_data_handle(), b ? b : zero.data(), static_cast<size_t>(p.n) * 4);
      op->src_ = memory(src_md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(dst_md, Engine(), DNNL_MEMORY_NONE);
      op->b_.prim = dnnl::matmul(pd);
      op->b_.args = {{DNNL_ARG_SRC, op->src_},
                     {DNNL_ARG_WEIGHTS, op->weights_},
                     {DNNL_ARG_BIAS, op->bias_},
                     {DNNL_ARG_DST, op->dst_}};
      BindScratchpad(op->b_, pd.scratchpad_desc());
      return std::unique_ptr<LinearOp>(std::move(op));
    });
  }
  void RunRows(const float* x, int64_t rows, float* y, const float* r) override {
    if (rows != rows_) {
      std::fprintf(stderr, "embody: fixed-shape linear built for %lld rows run on %lld\n",
                   static_cast<long long>(rows_), static_cast<long long>(rows));
      std::abort();
    }
    Run(x, y, r);
  }
  void Run(const float* x, float* y, const float* r) override {
    if (residual_ && r != y)
      for (int64_t i = 0; i < rows_; ++i) std::memcpy(y + i * ldy_, r + i * ldr_, static_cast<size_t>(n_) * 4);
    src_.set_data_handle(const_cast<float*>(x));
    dst_.set_data_handle(y);
    b_.Execute(stream_);
    stream_.wait();
  }

 private:
  DnnlLinear() : stream_(Engine()) {}
  dnnl::stream stream_;
  memory weights_, bias_, src_, dst_;
  Bound b_;
  bool residual_ = false;
  int64_t rows_ = 0, n_ = 0, ldy_ = 0, ldr_ = 0;
};

// A linear on oneDNN's sgemm with the weights in PyTorch layout (C = X W^T): any row count per
// call, no per-shape packing, so one copy of the weights serves every prompt length. The bias,
// activation and residual are an epilogue; a residual is folded into the GEMM as beta = 1.
class SgemmLinear final : public LinearOp {
 public:
  SgemmLinear(LinearParams p, const float* w, const float* b) : p_(p) {
    if (!p_.ldx) p_.ldx = p_.k;
    if (!p_.ldy) p_.ldy = p_.n;
    if (!p_.ldr) p_.ldr = p_.n;
    const size_t wn = static_cast<size_t>(p_.n * p_.k);
    weight_.reset(static_cast<float*>(AlignedAllocFloats(wn)));
    std::memcpy(weight_.get(), w, wn * sizeof(float));
    if (b) bias_.assign(b, b + p_.n);
  }
  void Run(const float* x, float* y, const float* r) override { RunRows(x, p_.m, y, r); }
  void RunRows(const float* x, int64_t rows, float* y, const float* r) override {
    if (rows <= 0) return;
    float beta = 0.0f;
    if (p_.residual) {
      if (r != y)
        for (int64_t i = 0; i < rows; ++i) std::memcpy(y + i * p_.ldy, r + i * p_.ldr, static_cast<size_t>(p_.n) * 4);
      beta = 1.0f;
    }
    dnnl_sgemm('N', 'T', rows, p_.n, p_.k, 1.0f, x, p_.ldx, weight_.get(), p_.k, beta, y, p_.ldy);
    if (bias_.empty() && p_.act == Activation::kNone) return;
    const float* b = bias_.empty() ? nullptr : bias_.data();
    const int64_t n = p_.n, ldy = p_.ldy;
    const Activation act = p_.act;
#pragma omp parallel for schedule(static) if (rows * n > 65536)
    for (int64_t i = 0; i < rows; ++i) {
      float* yi = y + i * ldy;
      if (b)
        for (int64_t j = 0; j < n; ++j) yi[j] += b[j];
      ApplyActivationInPlace(act, yi, n);
    }
  }

 private:
  static void* AlignedAllocFloats(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  LinearParams p_;
  std::unique_ptr<float, Free> weight_;
  std::vector<float> bias_;
};

// GQA attention: per query head, scores with sgemm, masked softmax in place, then probs x V.
class SgemmGqa final : public GqaAttentionOp {
 public:
  explicit SgemmGqa(const GqaParams& p)
      : p_(p), scores_(static_cast<size_t>(p.heads * p.max_sq * p.max_sk)) {}
  void Run(const float* q, const float* k, const float* v, float* out, const GqaShape& s) override {
    const int64_t d = p_.head_dim, group = p_.heads / p_.kv_heads, sq = s.sq, sk = s.sk;
    float* sc = scores_.data();
    for (int64_t h = 0; h < p_.heads; ++h)
      dnnl_sgemm('N', 'T', sq, sk, d, p_.scale, q + h * d, s.ldq, k + (h / group) * d, s.ldk, 0.f,
                 sc + h * sq * sk, sk);
    const int32_t* kv_len = s.kv_len;
    const int64_t heads = p_.heads;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < heads * sq; ++r)
      MaskedSoftmaxRow(sc + r * sk, sk, kv_len ? kv_len[r % sq] : sk);
    for (int64_t h = 0; h < p_.heads; ++h)
      dnnl_sgemm('N', 'N', sq, d, sk, 1.f, sc + h * sq * sk, sk, v + (h / group) * d, s.ldv, 0.f, out + h * d, s.ldo);
  }

 private:
  GqaParams p_;
  std::vector<float> scores_;
};

// Attention with bfloat16 inputs (AMX or AVX512-BF16 matmuls accumulating in f32), for blocks a
// precision plan runs below f32. Q, K^T and V are reordered once per call from the callers'
// strided f32 rows into plain bf16 [heads, rows, d] buffers. Then, per head and per chunk of
// query rows sized so the chunk's f32 scores stay in L2 (about 1 MiB), the scores matmul, the
// f32 softmax fused with the rounding to bf16 (elementwise.h), and the context matmul run back
// to back, each thread running whole (head, chunk) tasks on its own buffers. The context goes to
// a plain buffer and is copied into the caller's strided rows: with a strided destination oneDNN
// 2.6 picks its generic "gemm:jit" bf16 matmul instead of the AMX brgemm one, which measured
// several times slower. Computing every head's scores at once (26 MB of f32 for ACT's 902 tokens) made the attention memory-bound:
// the scores matmul wrote at 240 GFLOP/s and the softmax and its separate bf16 reorder each
// re-read the whole matrix (10.4 ms per ACT encoder layer, 2 threads).
bool HasBf16Matmul() {
  static const bool has = [] {
    try {
      const memory::desc a({1, 32, 32}, dt::bf16, tag::abc), c({1, 32, 32}, dt::f32, tag::abc);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, a, c), Engine());
      return std::string(pd.impl_info_str()).find("ref") == std::string::npos;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return has;
}

class Bf16Attention final : public AttentionOp {
 public:
  static Result<std::unique_ptr<AttentionOp>> Create(const AttentionParams& p) {
    return Guard("bf16 attention", [&]() -> Result<std::unique_ptr<AttentionOp>> {
      auto op = std::unique_ptr<Bf16Attention>(new Bf16Attention(p));
      const int64_t h = p.heads, sq = p.sq, sk = p.sk, d = p.head_dim;
      auto reorder = [&](Bound& b, const memory::desc& from, const memory::desc& to, memory& src, memory& dst) {
        dnnl::reorder::primitive_desc pd(Engine(), from, Engine(), to, OwnScratchpad());
        b.prim = dnnl::reorder(pd);
        b.args = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        BindScratchpad(b, pd.scratchpad_desc());
      };
      // The callers' strided f32 views (heads are d apart inside a row).
      const memory::desc q_f32({h, sq, d}, dt::f32, memory::dims{d, p.ldq, 1});
      const memory::desc kt_f32({h, d, sk}, dt::f32, memory::dims{d, 1, p.ldk});
      const memory::desc v_f32({h, sk, d}, dt::f32, memory::dims{d, p.ldv, 1});
      const memory::desc q_bf({h, sq, d}, dt::bf16, tag::abc), kt_bf({h, d, sk}, dt::bf16, tag::abc),
          v_bf({h, sk, d}, dt::bf16, tag::abc);
      op->q_ = memory(q_f32, Engine(), DNNL_MEMORY_NONE);
      op->k_ = memory(kt_f32, Engine(), DNNL_MEMORY_NONE);
      op->v_ = memory(v_f32, Engine(), DNNL_MEMORY_NONE);
      op->qb_ = memory(q_bf, Engine());
      op->kb_ = memory(kt_bf, Engine());
      op->vb_ = memory(v_bf, Engine());
      reorder(op->rq_, q_f32, q_bf, op->q_, op->qb_);
      reorder(op->rk_, kt_f32, kt_bf, op->k_, op->kb_);
      reorder(op->rv_, v_f32, v_bf, op->v_, op->vb_);
      // Equal chunks of at most ~1 MiB of f32 scores each; the last may be shorter.
      const int64_t want = std::clamp<int64_t>((int64_t{1} << 20) / (4 * sk), 16, sq);
      const int64_t chunks = (sq + want - 1) / want;
      op->chunk_rows_ = (sq + chunks - 1) / chunks;
      const int64_t tail = sq - (chunks - 1) * op->chunk_rows_;
      std::vector<int64_t> shapes = {op->chunk_rows_};
      if (tail != op->chunk_rows_) shapes.push_back(tail);
      std::vector<dnnl::matmul::primitive_desc> score_pds, context_pds;
      for (int64_t rows : shapes) {
        // Unscaled: the softmax applies p.scale (a free multiply there; an output scale here
        // is one more pass over the scores).
        score_pds.emplace_back(dnnl::matmul::desc(memory::desc({rows, d}, dt::bf16, tag::ab),
                                                  memory::desc({d, sk}, dt::bf16, tag::ab),
                                                  memory::desc({rows, sk}, dt::f32, tag::ab)),
                               OwnScratchpad(), Engine());
        context_pds.emplace_back(dnnl::matmul::desc(memory::desc({rows, sk}, dt::bf16, tag::ab),
                                                    memory::desc({sk, d}, dt::bf16, tag::ab),
                                                    memory::desc({rows, d}, dt::f32, tag::ab)),
                                 OwnScratchpad(), Engine());
      }
      // Each thread runs whole (head, chunk) tasks with its own buffers, memory objects and
      // scratchpads; the primitives themselves are shared (oneDNN runs a primitive from several
      // threads at once when their arguments differ).
      const int threads = std::max(1, omp_get_max_threads());
      for (int t = 0; t < threads; ++t) {
        auto w = std::make_unique<Worker>();
        w->scores.resize(static_cast<size_t>(op->chunk_rows_ * sk));
        w->probs.resize(static_cast<size_t>(op->chunk_rows_ * sk));
        w->context.resize(static_cast<size_t>(op->chunk_rows_ * d));
        w->sums.resize(static_cast<size_t>(op->chunk_rows_));
        for (size_t i = 0; i < shapes.size(); ++i) {
          Chunk c;
          c.rows = shapes[i];
          const auto& mm1 = score_pds[i];
          const auto& mm2 = context_pds[i];
          c.q = memory(mm1.src_desc(), Engine(), DNNL_MEMORY_NONE);
          c.k = memory(mm1.weights_desc(), Engine(), DNNL_MEMORY_NONE);
          c.v = memory(mm2.weights_desc(), Engine(), DNNL_MEMORY_NONE);
          const memory s(mm1.dst_desc(), Engine(), w->scores.data()), pr(mm2.src_desc(), Engine(), w->probs.data()),
              o(mm2.dst_desc(), Engine(), w->context.data());
          c.scores.prim = dnnl::matmul(mm1);
          c.scores.args = {{DNNL_ARG_SRC, c.q}, {DNNL_ARG_WEIGHTS, c.k}, {DNNL_ARG_DST, s}};
          BindScratchpad(c.scores, mm1.scratchpad_desc());
          c.context.prim = dnnl::matmul(mm2);
          c.context.args = {{DNNL_ARG_SRC, pr}, {DNNL_ARG_WEIGHTS, c.v}, {DNNL_ARG_DST, o}};
          BindScratchpad(c.context, mm2.scratchpad_desc());
          w->chunks.push_back(std::move(c));
        }
        op->workers_.push_back(std::move(w));
      }
      return std::unique_ptr<AttentionOp>(std::move(op));
    });
  }
  void Run(const float* q, const float* k, const float* v, float* out) override {
    q_.set_data_handle(const_cast<float*>(q));
    k_.set_data_handle(const_cast<float*>(k));
    v_.set_data_handle(const_cast<float*>(v));
    for (Bound* b : {&rq_, &rk_, &rv_}) b->Execute(stream_);
    stream_.wait();
    const int64_t chunks = (p_.sq + chunk_rows_ - 1) / chunk_rows_, tasks = p_.heads * chunks;
    const int threads = static_cast<int>(std::min<int64_t>(
        tasks, std::min<int64_t>(static_cast<int64_t>(workers_.size()), std::max(1, omp_get_max_threads()))));
#pragma omp parallel num_threads(threads)
    {
      Worker& w = *workers_[static_cast<size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < tasks; ++t) RunTask(w, t / chunks, (t % chunks) * chunk_rows_, out);
    }
  }

 private:
  struct Chunk {
    int64_t rows = 0;
    memory q, k, v;
    Bound scores, context;
  };
  struct Worker {
    dnnl::stream stream{Engine()};
    std::vector<float> scores, context, sums;
    std::vector<uint16_t> probs;
    std::vector<Chunk> chunks;  // the full chunk, then the shorter last one if any
  };

  // Query rows [r0, r0 + chunk) of head h: scores, exp(scale * (s - max)) to bf16, context,
  // and the softmax's division applied to the context rows as they are copied to out.
  void RunTask(Worker& w, int64_t h, int64_t r0, float* out) const {
    const int64_t d = p_.head_dim, sq = p_.sq, sk = p_.sk;
    const int64_t rows = std::min(chunk_rows_, sq - r0);
    Chunk& c = rows == w.chunks.front().rows ? w.chunks.front() : w.chunks.back();
    c.q.set_data_handle(static_cast<uint16_t*>(qb_.get_data_handle()) + (h * sq + r0) * d);
    c.k.set_data_handle(static_cast<uint16_t*>(kb_.get_data_handle()) + h * d * sk);
    c.v.set_data_handle(static_cast<uint16_t*>(vb_.get_data_handle()) + h * sk * d);
    c.scores.Execute(w.stream);
    w.stream.wait();
    for (int64_t i = 0; i < rows; ++i)
      w.sums[static_cast<size_t>(i)] = ScaledExpToBf16(w.scores.data() + i * sk, sk, p_.scale, w.probs.data() + i * sk);
    c.context.Execute(w.stream);
    w.stream.wait();
    for (int64_t i = 0; i < rows; ++i) {
      const float inv = 1.0f / w.sums[static_cast<size_t>(i)];
      const float* from = w.context.data() + i * d;
      float* to = out + (r0 + i) * p_.ldo + h * d;
      for (int64_t j = 0; j < d; ++j) to[j] = from[j] * inv;
    }
  }

  explicit Bf16Attention(const AttentionParams& p) : p_(p), stream_(Engine()) {}
  AttentionParams p_;
  dnnl::stream stream_;
  memory q_, k_, v_, qb_, kb_, vb_;
  Bound rq_, rk_, rv_;
  int64_t chunk_rows_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Attention per head with oneDNN's sgemm (any leading dimension, no primitive to build), and
// the softmax primitive over all heads' score rows at once.
class DnnlAttention final : public AttentionOp {
 public:
  static Result<std::unique_ptr<AttentionOp>> Create(const AttentionParams& p) {
    return Guard("attention", [&]() -> Result<std::unique_ptr<AttentionOp>> {
      auto op = std::unique_ptr<DnnlAttention>(new DnnlAttention(p));
      memory::desc md({p.heads * p.sq, p.sk}, dt::f32, tag::ab);
      dnnl::softmax_forward::primitive_desc pd(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), OwnScratchpad(), Engine());
      op->scores_ = memory(md, Engine());
      op->softmax_.prim = dnnl::softmax_forward(pd);
      op->softmax_.args = {{DNNL_ARG_SRC, op->scores_}, {DNNL_ARG_DST, op->scores_}};
      BindScratchpad(op->softmax_, pd.scratchpad_desc());
      return std::unique_ptr<AttentionOp>(std::move(op));
    });
  }
  void Run(const float* q, const float* k, const float* v, float* out) override {
    const int64_t d = p_.head_dim, sq = p_.sq, sk = p_.sk;
    auto* scores = static_cast<float*>(scores_.get_data_handle());
    for (int64_t h = 0; h < p_.heads; ++h)
      dnnl_sgemm('N', 'T', sq, sk, d, p_.scale, q + h * d, p_.ldq, k + h * d, p_.ldk, 0.f,
                 scores + h * sq * sk, sk);
    softmax_.Execute(stream_);
    stream_.wait();
    for (int64_t h = 0; h < p_.heads; ++h)
      dnnl_sgemm('N', 'N', sq, d, sk, 1.f, scores + h * sq * sk, sk, v + h * d, p_.ldv, 0.f,
                 out + h * d, p_.ldo);
  }

 private:
  explicit DnnlAttention(const AttentionParams& p) : p_(p), stream_(Engine()) {}
  AttentionParams p_;
  dnnl::stream stream_;
  memory scores_;
  Bound softmax_;
};

class DnnlLayerNorm final : public LayerNormOp {
 public:
  static Result<std::unique_ptr<LayerNormOp>> Create(int64_t m, int64_t n, float eps, const float* g,
                                                     const float* b) {
    return Guard("layer norm", [&]() -> Result<std::unique_ptr<LayerNormOp>> {
      auto op = std::unique_ptr<DnnlLayerNorm>(new DnnlLayerNorm());
      memory::desc md({m, n}, dt::f32, tag::ab);
      memory::desc c_md({n}, dt::f32, tag::a);
      dnnl::layer_normalization_forward::primitive_desc pd(
          dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_inference, md, eps,
                                                  dnnl::normalization_flags::use_scale |
                                                      dnnl::normalization_flags::use_shift),
          OwnScratchpad(), Engine());
      op->scale_ = memory(c_md, Engine());
      op->shift_ = memory(c_md, Engine());
      std::memcpy(op->scale_.get_data_handle(), g, static_cast<size_t>(n) * 4);
      std::memcpy(op->shift_.get_data_handle(), b, static_cast<size_t>(n) * 4);
      op->src_ = memory(md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(md, Engine(), DNNL_MEMORY_NONE);
      op->b_.prim = dnnl::layer_normalization_forward(pd);
      op->b_.args = {{DNNL_ARG_SRC, op->src_}, {DNNL_ARG_DST, op->dst_},
                     {DNNL_ARG_SCALE, op->scale_}, {DNNL_ARG_SHIFT, op->shift_}};
      BindScratchpad(op->b_, pd.scratchpad_desc());
      return std::unique_ptr<LayerNormOp>(std::move(op));
    });
  }
  void Run(const float* x, float* y) override {
    src_.set_data_handle(const_cast<float*>(x));
    dst_.set_data_handle(y);
    b_.Execute(stream_);
    stream_.wait();
  }

 private:
  DnnlLayerNorm() : stream_(Engine()) {}
  dnnl::stream stream_;
  memory scale_, shift_, src_, dst_;
  Bound b_;
};

constexpr tag kActTag = tag::nChw16c;  // AVX-512's native f32 activation layout

class DnnlConv final : public ConvOp {
 public:
  static Result<std::unique_ptr<ConvOp>> Create(const ConvParams& p, const float* w, const float* b) {
    return Guard("convolution", [&]() -> Result<std::unique_ptr<ConvOp>> {
      auto op = std::unique_ptr<DnnlConv>(new DnnlConv());
      op->residual_ = p.residual;
      memory::desc src_md({1, p.in_c, p.in_h, p.in_w}, dt::f32, p.plain_src ? tag::nchw : kActTag);
      memory::desc dst_md({1, p.out_c, p.out_h(), p.out_w()}, dt::f32, kActTag);
      memory::desc w_any({p.out_c, p.in_c, p.kernel, p.kernel}, dt::f32, tag::any);
      memory::desc w_user({p.out_c, p.in_c, p.kernel, p.kernel}, dt::f32, tag::oihw);
      memory::desc b_md({p.out_c}, dt::f32, tag::a);
      dnnl::post_ops po;
      // The residual is accumulated into dst (sum post-op): the one fusion every conv
      // implementation, Winograd included, supports. Run() copies it into dst if needed.
      if (p.residual) po.append_sum(1.f);
      if (p.relu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      dnnl::primitive_attr attr = OwnScratchpad();
      attr.set_post_ops(po);
      const memory::dims strides{p.stride, p.stride}, pad{p.pad, p.pad};
      auto make_pd = [&](dnnl::algorithm alg) {
        return dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg, src_md, w_any, b_md,
                                            dst_md, strides, pad, pad),
            attr, Engine());
      };
      dnnl::convolution_forward::primitive_desc pd;
      bool have_pd = false;
      if (p.allow_winograd && p.kernel == 3 && p.stride == 1 && !p.plain_src) {
        try {  // not every CPU / shape has a Winograd kernel: fall back to direct
          pd = make_pd(dnnl::algorithm::convolution_winograd);
          have_pd = true;
        } catch (const dnnl::error&) {
        }
      }
      if (!have_pd) pd = make_pd(dnnl::algorithm::convolution_direct);
      g_last_conv_impl = pd.impl_info_str();
      op->src_bytes_ = src_md.get_size();
      op->dst_bytes_ = dst_md.get_size();
      op->weights_ = Pack(w_user, w, pd.weights_desc(), op->stream_);
      op->bias_ = memory(b_md, Engine());
      std::memcpy(op->bias_.get_data_handle(), b, static_cast<size_t>(p.out_c) * 4);
      op->src_ = memory(src_md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(dst_md, Engine(), DNNL_MEMORY_NONE);
      op->b_.prim = dnnl::convolution_forward(pd);
      op->b_.args = {{DNNL_ARG_SRC, op->src_}, {DNNL_ARG_WEIGHTS, op->weights_},
                     {DNNL_ARG_BIAS, op->bias_}, {DNNL_ARG_DST, op->dst_}};
      BindScratchpad(op->b_, pd.scratchpad_desc());
      return std::unique_ptr<ConvOp>(std::move(op));
    });
  }
  size_t src_bytes() const override { return src_bytes_; }
  size_t dst_bytes() const override { return dst_bytes_; }
  void Run(const void* src, void* dst, const void* res) override {
    if (residual_ && res != dst) std::memcpy(dst, res, dst_bytes_);
    src_.set_data_handle(const_cast<void*>(src));
    dst_.set_data_handle(dst);
    b_.Execute(stream_);
    stream_.wait();
  }

 private:
  DnnlConv() : stream_(Engine()) {}
  dnnl::stream stream_;
  memory weights_, bias_, src_, dst_;
  Bound b_;
  bool residual_ = false;
  size_t src_bytes_ = 0, dst_bytes_ = 0;
};

class DnnlMaxPool final : public PoolOp {
 public:
  static Result<std::unique_ptr<PoolOp>> Create(const PoolParams& p) {
    return Guard("max pool", [&]() -> Result<std::unique_ptr<PoolOp>> {
      auto op = std::unique_ptr<DnnlMaxPool>(new DnnlMaxPool());
      memory::desc src_md({1, p.channels, p.in_h, p.in_w}, dt::f32, kActTag);
      memory::desc dst_md({1, p.channels, p.out_h(), p.out_w()}, dt::f32, kActTag);
      const memory::dims k{p.kernel, p.kernel}, s{p.stride, p.stride}, pad{p.pad, p.pad};
      dnnl::pooling_forward::primitive_desc pd(
          dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max,
                                      src_md, dst_md, s, k, pad, pad),
          OwnScratchpad(), Engine());
      op->dst_bytes_ = dst_md.get_size();
      op->src_ = memory(src_md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(dst_md, Engine(), DNNL_MEMORY_NONE);
      op->b_.prim = dnnl::pooling_forward(pd);
      op->b_.args = {{DNNL_ARG_SRC, op->src_}, {DNNL_ARG_DST, op->dst_}};
      BindScratchpad(op->b_, pd.scratchpad_desc());
      return std::unique_ptr<PoolOp>(std::move(op));
    });
  }
  size_t dst_bytes() const override { return dst_bytes_; }
  void Run(const void* src, void* dst) override {
    src_.set_data_handle(const_cast<void*>(src));
    dst_.set_data_handle(dst);
    b_.Execute(stream_);
    stream_.wait();
  }

 private:
  DnnlMaxPool() : stream_(Engine()) {}
  dnnl::stream stream_;
  memory src_, dst_;
  Bound b_;
  size_t dst_bytes_ = 0;
};

class DnnlToTokens final : public ToTokensOp {
 public:
  static Result<std::unique_ptr<ToTokensOp>> Create(int64_t c, int64_t h, int64_t w) {
    return Guard("reorder", [&]() -> Result<std::unique_ptr<ToTokensOp>> {
      auto op = std::unique_ptr<DnnlToTokens>(new DnnlToTokens());
      memory::desc src_md({1, c, h, w}, dt::f32, kActTag);
      memory::desc dst_md({1, c, h, w}, dt::f32, tag::nhwc);
      op->src_ = memory(src_md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(dst_md, Engine(), DNNL_MEMORY_NONE);
      dnnl::reorder::primitive_desc pd(Engine(), src_md, Engine(), dst_md, OwnScratchpad());
      op->b_.prim = dnnl::reorder(pd);
      op->b_.args = {{DNNL_ARG_FROM, op->src_}, {DNNL_ARG_TO, op->dst_}};
      BindScratchpad(op->b_, pd.scratchpad_desc());
      return std::unique_ptr<ToTokensOp>(std::move(op));
    });
  }
  void Run(const void* src, float* tokens) override {
    src_.set_data_handle(const_cast<void*>(src));
    dst_.set_data_handle(tokens);
    b_.Execute(stream_);
    stream_.wait();
  }

 private:
  DnnlToTokens() : stream_(Engine()) {}
  dnnl::stream stream_;
  memory src_, dst_;
  Bound b_;
};

}  // namespace

Result<std::unique_ptr<LinearOp>> MakeLinear(const LinearParams& p, const float* w, const float* b) {
  return DnnlLinear::Create(p, w, b);
}
Result<std::unique_ptr<AttentionOp>> MakeAttention(const AttentionParams& p) {
  if (p.bf16 && HasBf16Matmul()) return Bf16Attention::Create(p);
  return DnnlAttention::Create(p);
}
Result<std::unique_ptr<LinearOp>> MakeDynamicLinear(const LinearParams& p, const float* w, const float* b) {
  return std::unique_ptr<LinearOp>(std::make_unique<SgemmLinear>(p, w, b));
}
Result<std::unique_ptr<GqaAttentionOp>> MakeGqaAttention(const GqaParams& p) {
  return std::unique_ptr<GqaAttentionOp>(std::make_unique<SgemmGqa>(p));
}
Result<std::unique_ptr<LayerNormOp>> MakeLayerNorm(int64_t m, int64_t n, float eps, const float* g,
                                                   const float* b) {
  return DnnlLayerNorm::Create(m, n, eps, g, b);
}
Result<std::unique_ptr<ConvOp>> MakeConv(const ConvParams& p, const float* w, const float* b) {
  return DnnlConv::Create(p, w, b);
}
Result<std::unique_ptr<PoolOp>> MakeMaxPool(const PoolParams& p) { return DnnlMaxPool::Create(p); }
Result<std::unique_ptr<ToTokensOp>> MakeToTokens(int64_t c, int64_t h, int64_t w) {
  return DnnlToTokens::Create(c, h, w);
}
std::string LastConvImplementation() { return g_last_conv_impl; }

}  // namespace embody::kernels::onednn
