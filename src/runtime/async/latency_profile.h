// LatencyProfile: how much simulated time an inference is charged, so runs are deterministic and
// a slow board can be studied on a fast machine.
//   "250" / "250ms" / "2.86s"   a fixed latency per chunk
//   "measured"                  the policy's own measured (or reported) latency
//   "x2.5" / "measured*2.5"     the measured latency times a factor (a slower board)
//   "imx95-act"                 a named board profile (table in latency_profile.cc)
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace embody::runtime {

struct LatencyProfile {
  std::string name;       // as parsed, for reports
  double fixed_ms = -1;   // >= 0: every chunk costs this
  double scale = 1;       // else: measured_ms * scale

  // Simulated milliseconds charged for an inference that measured (or reported) measured_ms.
  double Charge(double measured_ms) const { return fixed_ms >= 0 ? fixed_ms : measured_ms * scale; }
};

Result<LatencyProfile> ParseLatencyProfile(std::string_view text);

// Control ticks the robot waits for a chunk whose inference takes latency_ms, started at the
// beginning of a tick of period_ms: the loop observes, infers and acts within the tick when the
// inference fits in it (as LeRobot's synchronous loop does), so 0 ticks up to one period, then
// one more per period started: ceil(latency / period) - 1.
int DelayTicks(double latency_ms, double period_ms);

}  // namespace embody::runtime
