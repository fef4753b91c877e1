// What every file that builds oneDNN primitives shares (kernels/onednn and kernels/quant).
#pragma once

#include <dnnl.hpp>
#include <string>

#include "core/status.h"

namespace embody::kernels::dnnl_util {

// The process's one CPU engine.
inline dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Every primitive owns its scratchpad. oneDNN's default ("library" mode, as Debian builds it)
// keeps one scratchpad per creating thread and shares it between primitives, so an op built on
// one thread and run on another (a model loaded on the main thread and run by the asynchronous
// inference thread), or two models run at once, corrupt each other's scratch.
inline dnnl::primitive_attr OwnScratchpad(dnnl::primitive_attr attr = {}) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}
// The memory for a primitive's scratchpad descriptor (empty when it needs none).
inline dnnl::memory Scratchpad(const dnnl::memory::desc& md) {
  return md.get_size() > 0 ? dnnl::memory(md, Engine()) : dnnl::memory();
}

// Converts oneDNN's exceptions into Status at creation time ("oneDNN <what>: ..."); Run() never
// throws for valid ops.
template <typename F>
auto Guard(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN ") + what + ": " + e.what());
  }
}

}  // namespace embody::kernels::dnnl_util
