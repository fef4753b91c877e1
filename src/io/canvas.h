// Drawing on an RGB io::Image for the plots embody writes (async traces, results tables): lines,
// rectangles and text, clipped to the image. Text comes from stb_easy_font (Debian's libstb-dev),
// which turns a string into axis-aligned quads: enough for labels without a font library.
#pragma once

#include <cstdint>
#include <string>

#include "io/image.h"

namespace embody::io {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// Draws into `image`, which must outlive the canvas. Coordinates outside it are clipped.
class Canvas {
 public:
  explicit Canvas(Image& image) : img_(image) {}
  void Set(int x, int y, Rgb c);
  // Filled rectangle [x0, x1) x [y0, y1).
  void Rect(int x0, int y0, int x1, int y1, Rgb c);
  // A 2-pixel-thick line from (x0, y0) to (x1, y1) (Bresenham).
  void Line(int x0, int y0, int x1, int y1, Rgb c);
  // Text with its top-left corner at (x, y); each font pixel is a scale x scale block.
  void Text(int x, int y, const std::string& text, int scale, Rgb c);
  // Width in pixels that Text() covers for `text` at `scale` (for centring labels).
  static int TextWidth(const std::string& text, int scale);

 private:
  Image& img_;
};

}  // namespace embody::io
