#include "train/eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

// stb_easy_font (Debian's libstb-dev): text as quads, enough for labels without a font library.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#include "stb/stb_easy_font.h"
#pragma GCC diagnostic pop

namespace embody::train {

namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string Cell(int s, int n) {
  if (n == 0) return "-";
  return Fmt("%.2f", static_cast<double>(s) / n) + " (" + std::to_string(s) + "/" + std::to_string(n) + ")";
}

// "act, checkpoints/020000" from ".../run/checkpoints/020000/pretrained_model".
std::string ShortName(const EvalSummary& s) {
  std::string p = s.checkpoint;
  while (!p.empty() && p.back() == '/') p.pop_back();
  const std::string tail = "/pretrained_model";
  if (p.size() > tail.size() && p.compare(p.size() - tail.size(), tail.size(), tail) == 0) p.resize(p.size() - tail.size());
  size_t cut = p.rfind('/');
  if (cut != std::string::npos && cut > 0) {
    const size_t before = p.rfind('/', cut - 1);
    p = p.substr(before == std::string::npos ? 0 : before + 1);
  }
  return s.policy + " " + p;
}

struct Canvas {
  io::Image& img;
  void Set(int x, int y, const uint8_t* c) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    uint8_t* p = &img.pixels[(static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)) * 3];
    p[0] = c[0], p[1] = c[1], p[2] = c[2];
  }
  void Rect(int x0, int y0, int x1, int y1, const uint8_t* c) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) Set(x, y, c);
  }
  void Text(int x, int y, const std::string& text, int scale, const uint8_t* c) {
    std::vector<char> vbuf(text.size() * 1024 + 64);
    unsigned char color[4] = {c[0], c[1], c[2], 255};
    std::string copy = text;
    const int quads = stb_easy_font_print(0, 0, copy.data(), color, vbuf.data(), static_cast<int>(vbuf.size()));
    struct Vertex {
      float x, y, z;
      unsigned char c[4];
    };
    const auto* v = reinterpret_cast<const Vertex*>(vbuf.data());
    for (int q = 0; q < quads; ++q) {
      const Vertex* quad = v + q * 4;
      const int x0 = static_cast<int>(std::floor(quad[0].x * scale)), y0 = static_cast<int>(std::floor(quad[0].y * scale));
      const int x1 = static_cast<int>(std::ceil(quad[2].x * scale)), y1 = static_cast<int>(std::ceil(quad[2].y * scale));
      Rect(x + x0, y + y0, x + x1, y + y1, c);
    }
  }
};

}  // namespace

std::string FormatReportTable(const std::vector<EvalSummary>& rows) {
  std::string out = "| Platform | Policy | Format | Execution | Inference latency | Test (20) | Val (10) | Global (30) |\n";
  out += "|---|---|---|---|---|---|---|---|\n";
  for (const EvalSummary& s : rows) {
    out += "| " + s.platform + " | " + ShortName(s) + " | " + s.format + " | " + s.mode + " (" + s.latency_profile +
           ") | " + Fmt("%.0f ms", s.latency_ms) + " | " + Cell(s.test_success, s.test_total) + " | " +
           Cell(s.val_success, s.val_total) + " | " +
           Cell(s.test_success + s.val_success, s.test_total + s.val_total) + " |\n";
  }
  return out;
}

io::Image PlotReport(const std::vector<EvalSummary>& rows, int height, int width) {
  io::Image img;
  img.height = height;
  img.width = width;
  img.pixels.assign(static_cast<size_t>(height) * static_cast<size_t>(width) * 3, 255);
  Canvas c{img};
  static const uint8_t kBlack[3] = {0, 0, 0}, kGrey[3] = {200, 200, 200};
  static const uint8_t kColors[3][3] = {{66, 114, 196}, {237, 125, 49}, {90, 160, 90}};  // test, val, global
  const int left = 50, right = width - 20, top = 50, bottom = height - 90;
  c.Text(left, 12, "success rate per checkpoint: test (blue), val (orange), global (green)", 2, kBlack);
  for (int k = 0; k <= 4; ++k) {
    const int y = bottom - (bottom - top) * k / 4;
    c.Rect(left, y, right, y + 1, kGrey);
    c.Text(8, y - 6, Fmt("%.2f", k / 4.0), 1, kBlack);
  }
  c.Rect(left, top, left + 1, bottom, kBlack);
  c.Rect(left, bottom, right, bottom + 1, kBlack);
  if (rows.empty()) return img;
  const int slot = (right - left) / static_cast<int>(rows.size());
  const int bar = std::max(2, std::min(40, slot / 4));
  for (size_t i = 0; i < rows.size(); ++i) {
    const EvalSummary& s = rows[i];
    const double v[3] = {s.test(), s.val(), s.global()};
    const int x0 = left + static_cast<int>(i) * slot + (slot - 3 * bar) / 2;
    for (int k = 0; k < 3; ++k) {
      const int h = static_cast<int>(std::lround(v[k] * (bottom - top)));
      c.Rect(x0 + k * bar, bottom - h, x0 + (k + 1) * bar - 1, bottom, kColors[k]);
    }
    std::string label = ShortName(s);
    const size_t max_chars = static_cast<size_t>(std::max(4, slot / 6));
    if (label.size() > max_chars) label = label.substr(label.size() - max_chars);
    c.Text(left + static_cast<int>(i) * slot + 2, bottom + 8, label, 1, kBlack);
    c.Text(left + static_cast<int>(i) * slot + 2, bottom + 22, s.format + " " + s.mode, 1, kBlack);
    c.Text(left + static_cast<int>(i) * slot + 2, bottom + 36, Fmt("%.0f ms", s.latency_ms), 1, kBlack);
    c.Text(left + static_cast<int>(i) * slot + 2, bottom + 50, Fmt("global %.2f", s.global()), 1, kBlack);
  }
  return img;
}

}  // namespace embody::train
