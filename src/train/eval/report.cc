#include "train/eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "io/canvas.h"

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


}  // namespace

std::string FormatReportTable(const std::vector<EvalSummary>& rows) {
  // The seed's header names the episode counts; they come from the rows (the first row's, or
  // "n" when rows differ).
  auto count = [&](auto total) {
    for (const EvalSummary& s : rows)
      if (total(s) != total(rows.front())) return std::string("n");
    return rows.empty() ? std::string("n") : std::to_string(total(rows.front()));
  };
  std::string out = "| Platform | Policy | Format | Execution | Inference latency | Test (" +
                    count([](const EvalSummary& s) { return s.test_total; }) + ") | Val (" +
                    count([](const EvalSummary& s) { return s.val_total; }) + ") | Global (" +
                    count([](const EvalSummary& s) { return s.test_total + s.val_total; }) + ") |\n";
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
  io::Canvas c(img);
  const io::Rgb kBlack{0, 0, 0}, kGrey{200, 200, 200};
  const io::Rgb kColors[3] = {{66, 114, 196}, {237, 125, 49}, {90, 160, 90}};  // test, val, global
  const int left = 50, right = width - 20, top = 50;
  const int slot = rows.empty() ? 1 : (right - left) / static_cast<int>(rows.size());
  // Label lines per row, each fitting its slot: the checkpoint ("act checkpoints/004000", split at
  // the space when too wide), the format (a plan split at commas), execution, latency and global
  // success. A piece still too wide loses its leading characters.
  auto fit = [&](std::string t) {
    while (t.size() > 4 && io::Canvas::TextWidth(t, 1) > slot - 6) t.erase(0, 1);
    return t;
  };
  auto add_wrapped = [&](std::vector<std::string>& l, const std::string& t, char sep) {
    if (io::Canvas::TextWidth(t, 1) <= slot - 6) {
      l.push_back(t);
      return;
    }
    size_t from = 0;
    for (size_t at; (at = t.find(sep, from)) != std::string::npos; from = at + 1) l.push_back(fit(t.substr(from, at - from)));
    l.push_back(fit(t.substr(from)));
  };
  std::vector<std::vector<std::string>> labels;
  size_t max_lines = 4;
  for (const EvalSummary& s : rows) {
    std::vector<std::string> l;
    add_wrapped(l, ShortName(s), ' ');
    add_wrapped(l, s.format, ',');
    l.push_back(s.mode);
    l.push_back(Fmt("%.0f ms", s.latency_ms));
    l.push_back(Fmt("global %.2f", s.global()));
    max_lines = std::max(max_lines, l.size());
    labels.push_back(std::move(l));
  }
  const int bottom = height - 14 - 14 * static_cast<int>(max_lines);
  c.Text(left, 12, "success rate per row: test (blue), val (orange), global (green)", 2, kBlack);
  for (int k = 0; k <= 4; ++k) {
    const int y = bottom - (bottom - top) * k / 4;
    c.Rect(left, y, right, y + 1, kGrey);
    c.Text(8, y - 6, Fmt("%.2f", k / 4.0), 1, kBlack);
  }
  c.Rect(left, top, left + 1, bottom, kBlack);
  c.Rect(left, bottom, right, bottom + 1, kBlack);
  if (rows.empty()) return img;
  const int bar = std::max(2, std::min(40, slot / 4));
  for (size_t i = 0; i < rows.size(); ++i) {
    const EvalSummary& s = rows[i];
    const double v[3] = {s.test(), s.val(), s.global()};
    const int x0 = left + static_cast<int>(i) * slot + (slot - 3 * bar) / 2;
    for (int k = 0; k < 3; ++k) {
      const int h = static_cast<int>(std::lround(v[k] * (bottom - top)));
      c.Rect(x0 + k * bar, bottom - h, x0 + (k + 1) * bar - 1, bottom, kColors[k]);
    }
    const int centre = left + static_cast<int>(i) * slot + slot / 2;
    int y = bottom + 8;
    for (const std::string& line : labels[i]) {  // centred under the bars
      c.Text(centre - io::Canvas::TextWidth(line, 1) / 2, y, line, 1, kBlack);
      y += 14;
    }
  }
  return img;
}

}  // namespace embody::train
