#include "io/canvas.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#include "stb/stb_easy_font.h"
#pragma GCC diagnostic pop

namespace embody::io {

void Canvas::Set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= img_.width || y >= img_.height) return;
  uint8_t* p = &img_.pixels[(static_cast<size_t>(y) * static_cast<size_t>(img_.width) + static_cast<size_t>(x)) * 3];
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

void Canvas::Rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) Set(x, y, c);
}

void Canvas::Line(int x0, int y0, int x1, int y1, Rgb c) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  while (true) {
    Set(x0, y0, c);
    Set(x0, y0 + 1, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

void Canvas::Text(int x, int y, const std::string& text, int scale, Rgb c) {
  std::vector<char> vbuf(text.size() * 1024 + 64);  // 64 bytes per quad, at most ~12 quads a glyph
  unsigned char color[4] = {c.r, c.g, c.b, 255};
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
    const int qx0 = static_cast<int>(std::floor(quad[0].x * scale)), qy0 = static_cast<int>(std::floor(quad[0].y * scale));
    const int qx1 = static_cast<int>(std::ceil(quad[2].x * scale)), qy1 = static_cast<int>(std::ceil(quad[2].y * scale));
    Rect(x + qx0, y + qy0, x + qx1, y + qy1, c);
  }
}

int Canvas::TextWidth(const std::string& text, int scale) {
  std::string copy = text;
  return stb_easy_font_width(copy.data()) * scale;
}

}  // namespace embody::io
