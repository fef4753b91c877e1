// int8 pipeline convolution and max pooling on oneDNN 2.6 (x86 builds with oneDNN).
//
// One primitive per convolution: u8/s8 NHWC source x s8 weights (AMX brgconv on Sapphire Rapids,
// VNNI kernels before it), the per-channel output scale s_src * ws / s_dst and the epilogue fused
// as oneDNN attributes fixed at creation (int8_pipeline.h gives the arithmetic):
//   oneDNN computes dst = post_ops(oscale * (acc + bias)) (measured: its bias is added before the
//   output scale in 2.6), so bias is passed divided by s_src * ws;
//   in-place residual = sum post-op (scale s_res / s_dst, reinterpreting dst as the residual's
//   type, e.g. an s8 shortcut under a u8 result); separate f32 residual = binary_add post-op;
//   then ReLU; the primitive rounds to nearest and saturates to the destination type.
#include <cstring>
#include <dnnl.hpp>
#include <string>
#include <unordered_map>

#include "kernels/onednn/dnnl_util.h"
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


dt DataType(PipelineType t) {
  switch (t) {
    case PipelineType::kU8: return dt::u8;
    case PipelineType::kS8: return dt::s8;
    case PipelineType::kF32: return dt::f32;
  }
  return dt::undef;
}


class OneDnnPipelineConv final : public PipelineConvOp {
 public:
  static Result<std::unique_ptr<PipelineConvOp>> Create(const PipelineConvParams& pp, const PackedWeights& w,
                                                        const float* bias) {
    return Guard("int8 pipeline convolution", [&]() -> Result<std::unique_ptr<PipelineConvOp>> {
      const ConvParams& p = pp.conv;
      auto op = std::unique_ptr<OneDnnPipelineConv>(new OneDnnPipelineConv(pp));
      const PipelineEpilogue ep = MakePipelineEpilogue(pp, w, bias);
      memory::desc src_md({1, p.in_c, p.in_h, p.in_w}, DataType(pp.src.type), tag::nhwc);
      memory::desc dst_md({1, p.out_c, p.out_h(), p.out_w()}, DataType(pp.dst.type), tag::nhwc);
      memory::desc res_md({1, p.out_c, p.out_h(), p.out_w()}, dt::f32, tag::nhwc);
      memory::desc w_any({p.out_c, p.in_c, p.kernel, p.kernel}, dt::s8, tag::any);
      memory::desc w_user({p.out_c, p.in_c, p.kernel, p.kernel}, dt::s8, tag::oihw);
      memory::desc b_md({p.out_c}, dt::f32, tag::a);
      dnnl::post_ops po;
      if (p.residual) {
        if (!pp.residual_in_place)
          po.append_binary(dnnl::algorithm::binary_add, res_md);
        else if (pp.residual.type == pp.dst.type)
          po.append_sum(ep.sum_scale);
        else
          po.append_sum(ep.sum_scale, DataType(pp.residual.type));
      }
      if (p.relu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      dnnl::primitive_attr attr = OwnScratchpad();
      attr.set_post_ops(po);
      attr.set_output_scales(1 << 1, ep.oscale);  // per output channel
      const memory::dims strides{p.stride, p.stride}, pad{p.pad, p.pad};
      dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                          src_md, w_any, b_md, dst_md, strides, pad, pad),
          attr, Engine());
      op->impl_ = pd.impl_info_str();
      op->src_bytes_ = src_md.get_size();
      op->dst_bytes_ = dst_md.get_size();
      memory user(w_user, Engine(), const_cast<uint8_t*>(w.data.data()));
      op->weights_ = memory(pd.weights_desc(), Engine());
      dnnl::reorder(user, op->weights_).execute(op->stream_, user, op->weights_);
      op->stream_.wait();
      op->bias_ = memory(b_md, Engine());
      std::memcpy(op->bias_.get_data_handle(), ep.bias.data(), ep.bias.size() * sizeof(float));
      op->src_ = memory(src_md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(dst_md, Engine(), DNNL_MEMORY_NONE);
      op->res_ = memory(res_md, Engine(), DNNL_MEMORY_NONE);
      op->prim_ = dnnl::convolution_forward(pd);
      op->args_ = {{DNNL_ARG_SRC, op->src_}, {DNNL_ARG_WEIGHTS, op->weights_}, {DNNL_ARG_BIAS, op->bias_},
                   {DNNL_ARG_DST, op->dst_}};
      if (p.residual && !pp.residual_in_place)
        op->args_[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = op->res_;
      if (pd.scratchpad_desc().get_size() > 0) op->args_[DNNL_ARG_SCRATCHPAD] = Scratchpad(pd.scratchpad_desc());
      return std::unique_ptr<PipelineConvOp>(std::move(op));
    });
  }
  size_t src_bytes() const override { return src_bytes_; }
  size_t dst_bytes() const override { return dst_bytes_; }
  std::string implementation() const override { return impl_; }
  void Run(const void* src, void* dst, const void* res) override {
    if (p_.conv.residual) {
      if (p_.residual_in_place) {
        if (res != dst) std::memcpy(dst, res, dst_bytes_);
      } else {
        res_.set_data_handle(const_cast<void*>(res));
      }
    }
    src_.set_data_handle(const_cast<void*>(src));
    dst_.set_data_handle(dst);
    prim_.execute(stream_, args_);
    stream_.wait();
  }

 private:
  explicit OneDnnPipelineConv(const PipelineConvParams& p) : p_(p), stream_(Engine()) {}
  PipelineConvParams p_;
  dnnl::stream stream_;
  dnnl::primitive prim_;
  memory weights_, bias_, src_, dst_, res_;
  std::unordered_map<int, memory> args_;
  std::string impl_;
  size_t src_bytes_ = 0, dst_bytes_ = 0;
};

class OneDnnPipelineMaxPool final : public PoolOp {
 public:
  static Result<std::unique_ptr<PoolOp>> Create(const PoolParams& p, PipelineType t) {
    return Guard("int8 pipeline max pool", [&]() -> Result<std::unique_ptr<PoolOp>> {
      auto op = std::unique_ptr<OneDnnPipelineMaxPool>(new OneDnnPipelineMaxPool());
      memory::desc src_md({1, p.channels, p.in_h, p.in_w}, DataType(t), tag::nhwc);
      memory::desc dst_md({1, p.channels, p.out_h(), p.out_w()}, DataType(t), tag::nhwc);
      const memory::dims k{p.kernel, p.kernel}, s{p.stride, p.stride}, pad{p.pad, p.pad};
      dnnl::pooling_forward::primitive_desc pd(
          dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, src_md,
                                      dst_md, s, k, pad, pad),
          OwnScratchpad(), Engine());
      op->dst_bytes_ = dst_md.get_size();
      op->src_ = memory(src_md, Engine(), DNNL_MEMORY_NONE);
      op->dst_ = memory(dst_md, Engine(), DNNL_MEMORY_NONE);
      op->prim_ = dnnl::pooling_forward(pd);
      op->args_ = {{DNNL_ARG_SRC, op->src_}, {DNNL_ARG_DST, op->dst_}};
      if (pd.scratchpad_desc().get_size() > 0) op->args_[DNNL_ARG_SCRATCHPAD] = Scratchpad(pd.scratchpad_desc());
      return std::unique_ptr<PoolOp>(std::move(op));
    });
  }
  size_t dst_bytes() const override { return dst_bytes_; }
  void Run(const void* src, void* dst) override {
    src_.set_data_handle(const_cast<void*>(src));
    dst_.set_data_handle(dst);
    prim_.execute(stream_, args_);
    stream_.wait();
  }

 private:
  OneDnnPipelineMaxPool() : stream_(Engine()) {}
  dnnl::stream stream_;
  dnnl::primitive prim_;
  memory src_, dst_;
  std::unordered_map<int, memory> args_;
  size_t dst_bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<PipelineConvOp>> MakeOneDnnPipelineConv(const PipelineConvParams& p, const PackedWeights& w,
                                                               const float* bias) {
  return OneDnnPipelineConv::Create(p, w, bias);
}

Result<std::unique_ptr<PoolOp>> MakeOneDnnPipelineMaxPool(const PoolParams& p, PipelineType t) {
  return OneDnnPipelineMaxPool::Create(p, t);
}

}  // namespace embody::kernels::quant
