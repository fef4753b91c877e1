#include "kernels/quant/onednn_row_buckets.h"

#include "kernels/onednn/dnnl_util.h"

namespace embody::kernels::quant {

using dnnl::memory;
using tag = memory::format_tag;
using dnnl_util::Engine;
using dnnl_util::OwnScratchpad;
using dnnl_util::Scratchpad;

void RowBucketedMatmul::Build(int64_t max_m, int64_t k, int64_t n, dt a_type, dt w_type, dt c_type,
                              const void* weights) {
  stream_ = dnnl::stream(Engine());
  memory::desc w_md;
  for (int64_t m = max_m; m >= 1; m = m > 32 ? (m + 1) / 2 : 0) {
    const memory::desc a_md({m, k}, a_type, tag::ab), c_md({m, n}, c_type, tag::ab);
    const memory::desc w_want = w_md ? w_md : memory::desc({k, n}, w_type, tag::any);
    dnnl::matmul::primitive_desc pd;
    try {
      pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, w_want, c_md), OwnScratchpad(), Engine());
    } catch (const dnnl::error&) {
      if (m == max_m) throw;
      continue;  // this M has no kernel on the first M's weight layout: a larger bucket serves
    }
    if (!w_md) {
      w_md = pd.weights_desc();
      impl_ = pd.impl_info_str();
    }
    buckets_.push_back({m, dnnl::matmul(pd), memory(a_md, Engine(), DNNL_MEMORY_NONE),
                        memory(c_md, Engine(), DNNL_MEMORY_NONE), Scratchpad(pd.scratchpad_desc()), {}});
  }
  const memory::desc w_user({k, n}, w_type, tag::ba);  // [n, k] row-major
  memory user(w_user, Engine(), const_cast<void*>(weights));
  weights_ = memory(w_md, Engine());
  dnnl::reorder(user, weights_).execute(stream_, user, weights_);
  stream_.wait();
  for (Bucket& b : buckets_) {
    b.args = {{DNNL_ARG_SRC, b.a}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, b.c}};
    if (b.scratch) b.args[DNNL_ARG_SCRATCHPAD] = b.scratch;
  }
}

void RowBucketedMatmul::Run(int64_t rows, const void* a, void* c) {
  Bucket* b = &buckets_.front();
  for (Bucket& candidate : buckets_)
    if (candidate.m >= rows && candidate.m < b->m) b = &candidate;
  b->a.set_data_handle(const_cast<void*>(a));
  b->c.set_data_handle(c);
  b->prim.execute(stream_, b->args);
  stream_.wait();
}

}  // namespace embody::kernels::quant
