#include "cli/common.h"

#include <unistd.h>

#include <sstream>

#include "core/seeded.h"

namespace embody::cli {

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kDataLoss: return 4;
    case StatusCode::kUnimplemented: return 5;
    default: return 1;
  }
}

Result<std::vector<float>> ParseFloats(const std::string& text, const std::string& what) {
  std::vector<float> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const float v = std::stof(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      return InvalidArgument(what + ": '" + item + "' is not a number");
    }
  }
  return out;
}

Result<std::vector<float>> ParseInputVector(const std::string& text, const std::string& flag, int64_t dim,
                                            const std::string& feature) {
  if (text.empty())
    return InvalidArgument(flag + " is required (" + std::to_string(dim) + " values of " + feature + ")");
  EMBODY_ASSIGN_OR_RETURN(std::vector<float> v, ParseFloats(text, flag));
  if (static_cast<int64_t>(v.size()) != dim)
    return InvalidArgument(flag + " has " + std::to_string(v.size()) + " values, the checkpoint expects " +
                           std::to_string(dim));
  return v;
}

Progress::Progress(std::string label, int total) : label_(std::move(label)), total_(total), tty_(isatty(2)) {}

void Progress::Step(int done) {
  const int width = 30;
  const int filled = total_ > 0 ? done * width / total_ : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "%s%s [%s] %d/%d%s", tty_ ? "\r" : "", label_.c_str(), bar.c_str(), done, total_,
               tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::Finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

std::string FormatBytes(double b) {
  char buf[32];
  if (b >= 1 << 30) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1 << 30));
  else if (b >= 1 << 20) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  return buf;
}

Result<std::map<std::string, io::Image>> LoadCameraImages(const std::vector<std::string>& specs) {
  std::map<std::string, io::Image> images;
  for (const auto& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) return InvalidArgument("--image " + spec + ": expected CAMERA=PATH");
    std::string cam = spec.substr(0, eq);
    if (cam.rfind("observation.", 0) != 0) cam = "observation.images." + cam;
    EMBODY_ASSIGN_OR_RETURN(images[cam], io::LoadImage(spec.substr(eq + 1)));
  }
  return images;
}

io::Image SeededImage(int step, const std::string& key, int height, int width) {
  io::Image img;
  img.height = height;
  img.width = width;
  img.pixels.resize(static_cast<size_t>(height) * static_cast<size_t>(width) * 3);
  seeded::FillImage(step, key, height, width, img.pixels.data());
  return img;
}

void PrintJson(const io::Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

}  // namespace embody::cli
