#include "models/smolvla/image_resize.h"

#include <algorithm>
#include <vector>

namespace embody::models::smolvla {

namespace {
// PyTorch's upsample_bilinear2d source index (align_corners=False): clamp below at 0.
struct Tap {
  int i0, i1;
  float w0, w1;
};
std::vector<Tap> Taps(int in, int out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int o = 0; o < out; ++o) {
    float src = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
    if (src < 0) src = 0;
    const int i0 = static_cast<int>(src);
    const int i1 = i0 + (i0 < in - 1 ? 1 : 0);
    const float l1 = src - static_cast<float>(i0);
    taps[static_cast<size_t>(o)] = {i0, i1, 1.0f - l1, l1};
  }
  return taps;
}
}  // namespace

void ResizeWithPadToSiglip(const uint8_t* frame, int h, int w, int size, float* out) {
  // ratio = max(w / size, h / size) in double, sizes truncated, as LeRobot computes them.
  const double ratio = std::max(static_cast<double>(w) / size, static_cast<double>(h) / size);
  const int rh = static_cast<int>(h / ratio), rw = static_cast<int>(w / ratio);
  const int pad_top = std::max(0, size - rh), pad_left = std::max(0, size - rw);
  const auto ty = Taps(h, rh), tx = Taps(w, rw);
  const int64_t plane = int64_t{size} * size;
#pragma omp parallel for schedule(static)
  for (int y = 0; y < size; ++y) {
    for (int c = 0; c < 3; ++c) {
      float* row = out + c * plane + int64_t{y} * size;
      if (y < pad_top) {
        std::fill(row, row + size, -1.0f);
        continue;
      }
      std::fill(row, row + pad_left, -1.0f);
      const Tap& a = ty[static_cast<size_t>(y - pad_top)];
      for (int x = 0; x < rw; ++x) {
        const Tap& b = tx[static_cast<size_t>(x)];
        auto px = [&](int yy, int xx) { return static_cast<float>(frame[(int64_t{yy} * w + xx) * 3 + c]) / 255.0f; };
        const float v = a.w0 * (b.w0 * px(a.i0, b.i0) + b.w1 * px(a.i0, b.i1)) +
                        a.w1 * (b.w0 * px(a.i1, b.i0) + b.w1 * px(a.i1, b.i1));
        row[pad_left + x] = v * 2.0f - 1.0f;
      }
    }
  }
}

}  // namespace embody::models::smolvla
