// Arena: one aligned block carved into buffers at load time, so inference never allocates.
//
// Usage: Reserve() every buffer's size while planning (nothing is allocated), then Commit()
// once, then Take() the same sizes in the same order to get pointers. Every buffer lives as long
// as the arena. Peak use is the committed size (this planner does not yet overlap buffers whose
// lifetimes are disjoint; that is the naive upper bound ExecuTorch's planner improves on).
//
// Not thread-safe; the buffers themselves may be used from any thread.
#pragma once

#include <cstddef>
#include <memory>

namespace embody {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  // Planning: adds a buffer of `bytes` (rounded up to 64). Returns its offset.
  size_t Reserve(size_t bytes);
  // Allocates the planned total, zero-filled. REQUIRES: not committed yet.
  void Commit();
  // Pointer to the buffer reserved at `offset`. REQUIRES: committed.
  void* At(size_t offset) const { return base_.get() + offset; }
  template <typename T>
  T* At(size_t offset) const { return reinterpret_cast<T*>(base_.get() + offset); }

  size_t bytes() const { return planned_; }
  bool committed() const { return base_ != nullptr; }

 private:
  struct Free {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, Free> base_;
  size_t planned_ = 0;
};

}  // namespace embody
