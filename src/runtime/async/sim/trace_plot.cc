#include "runtime/async/sim/trace_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/canvas.h"

namespace embody::runtime::simrun {

namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
}  // namespace

io::Image PlotTrace(const std::vector<TickTrace>& trace, int chunk_size, int height, int width) {
  io::Image img;
  img.height = height;
  img.width = width;
  img.pixels.assign(static_cast<size_t>(height) * width * 3, 255);
  io::Canvas c(img);
  const int left = 60, right = width - 70, top = 36, bottom = height - 40;
  c.Line(left, bottom, right, bottom, io::Rgb{0, 0, 0});
  c.Line(left, top, left, bottom, io::Rgb{0, 0, 0});
  c.Line(right, top, right, bottom, io::Rgb{0, 0, 0});
  if (trace.empty()) return img;
  float max_lat = 1;
  for (const TickTrace& t : trace) max_lat = std::max(max_lat, t.inflight_latency_ms);
  const double n = std::max<size_t>(trace.size() - 1, 1);
  auto x_of = [&](size_t i) { return left + static_cast<int>((right - left) * (i / n)); };
  auto y_of = [&](double v, double vmax) { return bottom - static_cast<int>((bottom - top) * std::clamp(v / vmax, 0.0, 1.0)); };
  for (size_t i = 0; i < trace.size(); ++i)
    if (trace[i].idle) c.Line(x_of(i), bottom + 4, x_of(i), bottom + 10, io::Rgb{150, 150, 150});
  // Labels: what each line is and its scale.
  c.Text(left, 8, "queue size (actions)", 2, io::Rgb{30, 80, 220});
  c.Text(right - 330, 8, "inference latency in flight (ms)", 2, io::Rgb{220, 40, 40});
  c.Text(8, top - 4, std::to_string(chunk_size), 2, io::Rgb{30, 80, 220});
  c.Text(8, bottom - 10, "0", 2, io::Rgb{30, 80, 220});
  c.Text(right + 6, top - 4, Fmt("%.0f", max_lat), 2, io::Rgb{220, 40, 40});
  c.Text(right + 6, bottom - 10, "0", 2, io::Rgb{220, 40, 40});
  c.Text(left, bottom + 14, "control ticks: 0 .. " + std::to_string(trace.size() - 1) + "   (grey marks: robot idle, waiting for actions)", 2, io::Rgb{90, 90, 90});
  for (size_t i = 1; i < trace.size(); ++i) {
    c.Line(x_of(i - 1), y_of(trace[i - 1].inflight_latency_ms, max_lat), x_of(i), y_of(trace[i].inflight_latency_ms, max_lat), io::Rgb{220, 40, 40});
    c.Line(x_of(i - 1), y_of(trace[i - 1].queue_size, chunk_size), x_of(i), y_of(trace[i].queue_size, chunk_size), io::Rgb{30, 80, 220});
  }
  return img;
}

}  // namespace embody::runtime::simrun
