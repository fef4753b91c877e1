#include "runtime/async/latency_profile.h"

#include <cmath>
#include <cstdlib>

namespace embody::runtime {

namespace {
// Per-chunk latencies of boards measured elsewhere in the project (ms).
struct Named {
  std::string_view name;
  double ms;
};
constexpr Named kBoards[] = {
    // NXP's measurements on the i.MX95 (6x Cortex-A55), per inference: ONNX FP32 and their
    // optimized stack, for the default 3-camera ACT and for SmolVLA.
    {"imx95-act", 2860},
    {"imx95-act-opt", 320},
    {"imx95-smolvla", 29100},
    {"imx95-smolvla-opt", 6150},
};

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string str(s);
  char* end = nullptr;
  const double v = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size() || !std::isfinite(v) || v < 0) return false;
  *out = v;
  return true;
}
}  // namespace

Result<LatencyProfile> ParseLatencyProfile(std::string_view text) {
  LatencyProfile p;
  p.name = std::string(text);
  for (const Named& b : kBoards) {
    if (text == b.name) {
      p.fixed_ms = b.ms;
      return p;
    }
  }
  if (text == "measured") return p;
  for (std::string_view prefix : {std::string_view("measured*"), std::string_view("x")}) {
    if (text.substr(0, prefix.size()) == prefix) {
      if (!ParseNumber(text.substr(prefix.size()), &p.scale))
        return InvalidArgument("latency '" + p.name + "': bad scale factor");
      return p;
    }
  }
  double v = 0;
  std::string_view num = text;
  double unit = 1;
  if (num.size() > 2 && num.substr(num.size() - 2) == "ms") {
    num.remove_suffix(2);
  } else if (num.size() > 1 && num.back() == 's') {
    num.remove_suffix(1);
    unit = 1000;
  }
  if (!ParseNumber(num, &v))
    return InvalidArgument("latency '" + p.name + "': expected ms (250, 250ms, 2.5s), measured, x<factor> or a board: imx95-act, imx95-act-opt, imx95-smolvla, imx95-smolvla-opt");
  p.fixed_ms = v * unit;
  return p;
}

int DelayTicks(double latency_ms, double period_ms) {
  if (latency_ms <= 0 || period_ms <= 0) return 0;
  // the small tolerance keeps exact multiples (e.g. 2 periods) from rounding up by float noise
  const int periods = static_cast<int>(std::ceil(latency_ms / period_ms - 1e-9));
  return periods > 0 ? periods - 1 : 0;
}

}  // namespace embody::runtime
