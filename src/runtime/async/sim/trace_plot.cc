#include "runtime/async/sim/trace_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// stb_easy_font (Debian's libstb-dev) turns text into axis-aligned quads: enough for labels
// without a font library.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#include "stb/stb_easy_font.h"
#pragma GCC diagnostic pop

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
  // Text at (x, y) (top-left), each font pixel drawn as a scale x scale block.
  void Text(int x, int y, const std::string& text, int scale, uint8_t r, uint8_t g, uint8_t b) {
    std::vector<char> vbuf(text.size() * 1024 + 64);  // 64 bytes per quad, at most ~12 quads a glyph
    unsigned char color[4] = {r, g, b, 255};
    std::string copy = text;
    const int quads = stb_easy_font_print(0, 0, copy.data(), color, vbuf.data(), static_cast<int>(vbuf.size()));
    struct Vertex {
      float x, y, z;
      unsigned char c[4];
    };
    const auto* v = reinterpret_cast<const Vertex*>(vbuf.data());
    for (int q = 0; q < quads; ++q) {
      const Vertex* quad = v + q * 4;
      // Scale before rounding: segments are fractions of a font pixel wide.
      const int x0 = static_cast<int>(std::floor(quad[0].x * scale)), y0 = static_cast<int>(std::floor(quad[0].y * scale));
      const int x1 = static_cast<int>(std::ceil(quad[2].x * scale)), y1 = static_cast<int>(std::ceil(quad[2].y * scale));
      for (int yy = y0; yy < y1; ++yy)
        for (int xx = x0; xx < x1; ++xx) Set(x + xx, y + yy, r, g, b);
    }
  }
};

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
  Canvas c{img};
  const int left = 60, right = width - 70, top = 36, bottom = height - 40;
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
  // Labels: what each line is and its scale.
  c.Text(left, 8, "queue size (actions)", 2, 30, 80, 220);
  c.Text(right - 330, 8, "inference latency in flight (ms)", 2, 220, 40, 40);
  c.Text(8, top - 4, std::to_string(chunk_size), 2, 30, 80, 220);
  c.Text(8, bottom - 10, "0", 2, 30, 80, 220);
  c.Text(right + 6, top - 4, Fmt("%.0f", max_lat), 2, 220, 40, 40);
  c.Text(right + 6, bottom - 10, "0", 2, 220, 40, 40);
  c.Text(left, bottom + 14, "control ticks: 0 .. " + std::to_string(trace.size() - 1) + "   (grey marks: robot idle, waiting for actions)", 2,
         90, 90, 90);
  for (size_t i = 1; i < trace.size(); ++i) {
    c.Line(x_of(i - 1), y_of(trace[i - 1].inflight_latency_ms, max_lat), x_of(i), y_of(trace[i].inflight_latency_ms, max_lat),
           220, 40, 40);
    c.Line(x_of(i - 1), y_of(trace[i - 1].queue_size, chunk_size), x_of(i), y_of(trace[i].queue_size, chunk_size), 30, 80,
           220);
  }
  return img;
}

}  // namespace embody::runtime::simrun
