// LeRobot's `use_amp` on the CPU: the forward pass runs under torch.autocast("cpu", bfloat16), so
// convolutions and matrix products compute in bf16 (AMX / AVX512-BF16 through oneDNN) while
// normalizations, softmax and the loss stay in f32. Internal to src/train: pulls in libtorch.
#pragma once

#include <c10/core/ScalarType.h>

#include "core/status.h"

namespace embody::train {

// Ok when this libtorch trains under CPU bf16 autocast: 2.x (2.10 is tested). Debian's 1.13
// (OpenBLAS, no oneDNN) fails inside its bf16 kernels ("expected scalar type BFloat16 but found
// Float"), so use_amp is refused there with a clear error instead.
Status CpuAutocastSupported();

// Turns CPU autocast on for its lifetime (nothing when `enabled` is false) and restores the
// previous state after; the outermost guard also drops autocast's cache of cast weights, as
// leaving Python's torch.autocast does. Guards nest; one thread only (autocast state is per thread).
class CpuAutocast {
 public:
  explicit CpuAutocast(bool enabled);
  ~CpuAutocast();
  CpuAutocast(const CpuAutocast&) = delete;
  CpuAutocast& operator=(const CpuAutocast&) = delete;

 private:
  bool active_ = false, previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::BFloat16;
};

}  // namespace embody::train
