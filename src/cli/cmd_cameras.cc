// embody cameras: the V4L2 devices, their formats, sizes and frame rates; with --capture, open
// cameras as --camera would and measure what they deliver (rate, frame age, decode failures).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "camera/v4l2.h"
#include "cli/common.h"
#include "cli/robot_cli.h"

namespace embody::cli {

namespace {

struct CamerasArgs {
  std::vector<std::string> capture;
  double seconds = 3;
  bool json = false;
};

std::string Rates(const std::vector<double>& fps) {
  if (fps.empty()) return "(range)";
  std::string s;
  for (double f : fps) {
    char b[16];
    std::snprintf(b, sizeof(b), "%g", f);
    if (!s.empty()) s += '/';
    s += b;
  }
  return s + " fps";
}

int Capture(const CamerasArgs& a) {
  InstallStopHandler();
  auto cams = StartCameras(a.capture);
  if (!cams.ok()) return Fail(cams.status());
  const auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> first(cams->size());
  for (size_t i = 0; i < cams->size(); ++i) first[i] = (*cams)[i]->stats().frames;
  std::vector<double> max_age(cams->size(), 0);
  camera::Frame f;
  Status error;
  while (!StopRequested() && std::chrono::steady_clock::now() - start < std::chrono::duration<double>(a.seconds)) {
    for (size_t i = 0; i < cams->size() && error.ok(); ++i) {
      error = (*cams)[i]->ReadLatest(&f);
      const double age = (std::chrono::steady_clock::now().time_since_epoch().count() - f.timestamp_ns) * 1e-6;
      if (error.ok()) max_age[i] = std::max(max_age[i], age);
    }
    if (!error.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  io::Json out = io::Json::array();
  for (size_t i = 0; i < cams->size(); ++i) {
    const camera::Camera& c = *(*cams)[i];
    const camera::CameraStats s = c.stats();
    const double fps = static_cast<double>(s.frames - first[i]) / elapsed;
    out.push_back({{"name", c.name()}, {"device", c.grabber().device()}, {"format", c.grabber().Describe()},
                   {"measured_fps", fps}, {"max_frame_age_ms", max_age[i]}, {"bad_frames", s.bad_frames},
                   {"failures", s.failures}, {"error", c.error()}});
    if (!a.json)
      std::printf("%-8s %-24s %s\n         measured %.1f fps over %.1f s, newest frame at most %.1f ms old, %llu bad frames%s%s\n",
                  c.name().c_str(), c.grabber().device().c_str(), c.grabber().Describe().c_str(), fps, elapsed,
                  max_age[i], static_cast<unsigned long long>(s.bad_frames), c.error().empty() ? "" : "\n         ",
                  c.error().c_str());
  }
  if (a.json) PrintJson({{"capture", out}});
  return error.ok() ? 0 : Fail(error);
}

int RunCameras(const CamerasArgs& a) {
  if (!a.capture.empty()) return Capture(a);
  const std::vector<camera::V4l2Device> devices = camera::ListV4l2Devices();
  if (a.json) {
    io::Json list = io::Json::array();
    for (const auto& d : devices) {
      io::Json formats = io::Json::array();
      for (const auto& f : d.formats) {
        io::Json sizes = io::Json::array();
        for (const auto& s : f.sizes) sizes.push_back({{"width", s.width}, {"height", s.height}, {"fps", s.fps}});
        formats.push_back({{"fourcc", f.fourcc}, {"description", f.description}, {"sizes", sizes}});
      }
      list.push_back({{"path", d.path}, {"by_id", d.by_id}, {"card", d.card}, {"driver", d.driver},
                      {"bus_info", d.bus_info}, {"capture", d.capture}, {"formats", formats}, {"error", d.error}});
    }
    PrintJson({{"devices", list}});
    return 0;
  }
  if (devices.empty()) {
    std::printf("no V4L2 devices (/dev/video*) found. Plug a USB camera in; in a container, pass --device /dev/videoN.\n");
    return 0;
  }
  for (const auto& d : devices) {
    std::printf("%s  %s%s%s\n", d.path.c_str(), d.card.c_str(), d.by_id.empty() ? "" : "  ", d.by_id.c_str());
    if (!d.error.empty()) {
      std::printf("    cannot query: %s\n", d.error.c_str());
      continue;
    }
    if (!d.capture) {
      std::printf("    not a capture node (metadata/output)\n");
      continue;
    }
    for (const auto& f : d.formats) {
      std::printf("    %-4s %s\n", f.fourcc.c_str(), f.description.c_str());
      for (const auto& s : f.sizes) std::printf("         %4dx%-4d %s\n", s.width, s.height, Rates(s.fps).c_str());
    }
  }
  std::printf("use one as --camera NAME=/dev/videoN,width=W,height=H,fps=F[,format=mjpeg|yuyv,exposure=fixed|auto|N,wb=fixed|auto|K]\n");
  return 0;
}

}  // namespace

void RegisterCameras(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<CamerasArgs>();
  auto* sub = app.add_subcommand("cameras", "List V4L2 cameras (formats, sizes, frame rates) or test-capture from some");
  sub->add_option("--capture", a->capture, "NAME=SOURCE[,...] (as --camera): open, capture and measure");
  sub->add_option("--seconds", a->seconds, "--capture: how long");
  sub->add_flag("--json", a->json, "Machine-readable output");
  sub->callback([&run, a] { run = [a] { return RunCameras(*a); }; });
}

}  // namespace embody::cli
