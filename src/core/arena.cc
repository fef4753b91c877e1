#include "core/arena.h"

#include <cstdlib>
#include <cstring>

#include "core/tensor.h"

namespace embody {

void Arena::Free::operator()(char* p) const { std::free(p); }

size_t Arena::Reserve(size_t bytes) {
  const size_t offset = planned_;
  planned_ += (bytes + 63) / 64 * 64;
  return offset;
}

void Arena::Commit() {
  base_.reset(static_cast<char*>(AlignedAlloc(planned_)));
  std::memset(base_.get(), 0, planned_);
}

}  // namespace embody
