#include "runtime/async/sim/trace_plot.h"

#include <algorithm>
#include <cstdlib>

namespace embody::runtime::simrun {

namespace {
struct Canvas {
  io::Image& img;
  void Set(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    uint8_t* p = &img.pixels[(static_cast<size_t>(y) * img.width + x) * 3];
    p[0] = r, p[1] = g, p[2] = b;
  }
  void Line(int x0, int y0, int x1, int y1, uint8_t r, uint8_t g, uint8_t b) {  // Bresenham
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    while (true) {
      Set(x0, y0, r, g, b);
      Set(x0, y0 + 1, r, g, b);  // 2 px thick
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
};
}  // namespace

io::Image PlotTrace(const std::vector<TickTrace>& trace, int chunk_size, int height, int width) {
  io::Image img;
  img.height = height;
  img.width = width;
  img.pixels.assign(static_cast<size_t>(height) * width * 3, 255);
  Canvas c{img};
  const int left = 40, right = width - 40, top = 20, bottom = height - 30;
  c.Line(left, bottom, right, bottom, 0, 0, 0);
  c.Line(left, top, left, bottom, 0, 0, 0);
  c.Line(right, top, right, bottom, 0, 0, 0);
  if (trace.empty()) return img;
  float max_lat = 1;
  for (const TickTrace& t : trace) max_lat = std::max(max_lat, t.inflight_latency_ms);
  const double n = std::max<size_t>(trace.size() - 1, 1);
  auto x_of = [&](size_t i) { return left + static_cast<int>((right - left) * (i / n)); };
  auto y_of = [&](double v, double vmax) { return bottom - static_cast<int>((bottom - top) * std::clamp(v / vmax, 0.0, 1.0)); };
  for (size_t i = 0; i < trace.size(); ++i)
    if (trace[i].idle) c.Line(x_of(i), bottom + 4, x_of(i), bottom + 10, 150, 150, 150);
  for (size_t i = 1; i < trace.size(); ++i) {
    c.Line(x_of(i - 1), y_of(trace[i - 1].inflight_latency_ms, max_lat), x_of(i), y_of(trace[i].inflight_latency_ms, max_lat),
           220, 40, 40);
    c.Line(x_of(i - 1), y_of(trace[i - 1].queue_size, chunk_size), x_of(i), y_of(trace[i].queue_size, chunk_size), 30, 80,
           220);
  }
  return img;
}

}  // namespace embody::runtime::simrun
