// Tensor: a typed, shaped view of memory that may or may not own it.
//
// Dim order is PyTorch's (row-major, last dim fastest). Strides are in elements, not bytes.
// A tensor made by Empty()/Zeros() owns 64-byte aligned storage shared between copies (copying a
// Tensor never copies data). A tensor made by View() borrows memory: the caller keeps it alive,
// e.g. an mmapped safetensors file must outlive every view into it.
//
// Thread safety: concurrent reads are fine; writes to the same elements need outside sync.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace embody {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + rank_}; }
  // "[3, 480, 640]"
  std::string ToString() const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

class Tensor {
 public:
  Tensor() = default;

  // Owning, uninitialized / zero-filled, contiguous.
  static Tensor Empty(DType dtype, const Shape& shape);
  static Tensor Zeros(DType dtype, const Shape& shape);
  // Borrowing, contiguous. REQUIRES: data points to shape.numel() elements of dtype.
  static Tensor View(void* data, DType dtype, const Shape& shape);
  static Tensor View(const void* data, DType dtype, const Shape& shape) {
    return View(const_cast<void*>(data), dtype, shape);
  }

  bool defined() const { return data_ != nullptr || shape_.numel() == 0; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }
  int64_t stride(int i) const { return strides_[static_cast<size_t>(i)]; }
  bool is_contiguous() const;
  bool owns_data() const { return storage_ != nullptr; }

  void* raw() const { return data_; }
  template <typename T>
  T* data() const { return static_cast<T*>(data_); }

  // A contiguous tensor with the same data and a new shape of equal numel (no copy).
  // REQUIRES: is_contiguous() and new_shape.numel() == numel().
  Tensor Reshape(const Shape& new_shape) const;
  // A deep, owning, contiguous copy.
  Tensor Clone() const;
  // A contiguous F32 copy of an F32, F16 or BF16 tensor.
  Tensor ToF32() const;

 private:
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
  DType dtype_ = DType::kF32;
  Shape shape_;
  std::array<int64_t, Shape::kMaxRank> strides_{};

  void SetContiguousStrides();
};

// 64-byte aligned allocation for SIMD and cache lines; freed with std::free.
void* AlignedAlloc(size_t bytes);

}  // namespace embody
