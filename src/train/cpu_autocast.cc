#include "train/cpu_autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <string>

// libtorch 2.4 made autocast's switches per device type; Debian's 1.13 (CI) has CPU-named ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define EMBODY_AUTOCAST_PER_DEVICE 1
#endif

namespace embody::train {

namespace {

bool Enabled() {
#ifdef EMBODY_AUTOCAST_PER_DEVICE
  return at::autocast::is_autocast_enabled(at::kCPU);
#else
  return at::autocast::is_cpu_enabled();
#endif
}

c10::ScalarType Dtype() {
#ifdef EMBODY_AUTOCAST_PER_DEVICE
  return at::autocast::get_autocast_dtype(at::kCPU);
#else
  return at::autocast::get_autocast_cpu_dtype();
#endif
}

void Set(bool enabled, c10::ScalarType dtype) {
#ifdef EMBODY_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_enabled(at::kCPU, enabled);
  at::autocast::set_autocast_dtype(at::kCPU, dtype);
#else
  at::autocast::set_cpu_enabled(enabled);
  at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}

}  // namespace

Status CpuAutocastSupported() {
#if TORCH_VERSION_MAJOR >= 2
  return Status::Ok();
#else
  return Unimplemented("use_amp: bf16 autocast needs libtorch >= 2 (this is " + std::to_string(TORCH_VERSION_MAJOR) +
                       "." + std::to_string(TORCH_VERSION_MINOR) +
                       "; EMBODY_WITH_TRAIN=1 scripts/setup.sh installs 2.10); train without --use-amp");
#endif
}

CpuAutocast::CpuAutocast(bool enabled) {
  if (!enabled) return;
  active_ = true;
  previous_enabled_ = Enabled();
  previous_dtype_ = Dtype();
  Set(true, c10::ScalarType::BFloat16);
}

CpuAutocast::~CpuAutocast() {
  if (!active_) return;
  Set(previous_enabled_, previous_dtype_);
  if (!previous_enabled_) at::autocast::clear_cache();
}

}  // namespace embody::train
