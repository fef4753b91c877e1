// A oneDNN matmul C[rows, n] = A[rows, k] x W[k, n] whose row count is chosen per call, shared by
// the int8 and bf16 linears (oneDNN builds only).
//
// AMX kernels need M fixed at creation (a runtime M falls back to a 4-6x slower GEMM, measured),
// so Build makes one primitive for M = max_m and for its halvings down to 32 rows, all on one
// packed weight layout; Run picks the smallest that covers the rows. The extra rows of that
// bucket read stale data from A's buffer and their outputs are ignored (matmul rows are
// independent), so A and C must have room for max_m rows.
#pragma once

#include <cstdint>
#include <dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace embody::kernels::quant {

class RowBucketedMatmul {
 public:
  using dt = dnnl::memory::data_type;

  // weights: [n, k] row-major (PyTorch Linear layout) of type w_type, reordered once into the
  // primitives' layout. Throws dnnl::error (call inside dnnl_util::Guard).
  void Build(int64_t max_m, int64_t k, int64_t n, dt a_type, dt w_type, dt c_type, const void* weights);
  // The first (max_m) primitive's implementation, e.g. "brg:avx512_core_amx".
  const std::string& implementation() const { return impl_; }
  // c[0, rows) = a[0, rows) x W. a: dense [max_m, k], c: dense [max_m, n]. Never allocates.
  void Run(int64_t rows, const void* a, void* c);

 private:
  struct Bucket {
    int64_t m;
    dnnl::primitive prim;
    dnnl::memory a, c, scratch;
    std::unordered_map<int, dnnl::memory> args;  // bound at Build: Run never allocates
  };
  std::vector<Bucket> buckets_;
  dnnl::memory weights_;
  dnnl::stream stream_;
  std::string impl_;
};

}  // namespace embody::kernels::quant
