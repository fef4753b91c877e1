#include "data/quality.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "data/format.h"

namespace embody::data {

bool QualityReport::failed() const {
  return std::any_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.level == CheckLevel::kFail; });
}

io::Json QualityReport::ToJson() const {
  io::Json arr = io::Json::array();
  for (const CheckResult& c : checks)
    arr.push_back({{"name", c.name},
                   {"level", c.level == CheckLevel::kOk ? "ok" : c.level == CheckLevel::kWarn ? "warn" : "fail"},
                   {"detail", c.detail}});
  return {{"checks", arr}, {"ok", !failed()}};
}

namespace {

constexpr int kThumbW = 64, kThumbH = 48;

std::vector<float> Thumbnail(const io::Image& img) {
  std::vector<float> t(kThumbW * kThumbH, 0);
  for (int y = 0; y < kThumbH; ++y)
    for (int x = 0; x < kThumbW; ++x) {
      const int sy = y * img.height / kThumbH, sx = x * img.width / kThumbW;
      const uint8_t* p = &img.pixels[(static_cast<size_t>(sy) * img.width + sx) * 3];
      t[static_cast<size_t>(y) * kThumbW + x] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    }
  return t;
}

double Mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double Spread(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() * 95 / 100] - v[v.size() * 5 / 100];
}

CheckLevel Level(double v, double warn, double fail, bool higher_is_worse = true) {
  if (higher_is_worse) return v >= fail ? CheckLevel::kFail : v >= warn ? CheckLevel::kWarn : CheckLevel::kOk;
  return v <= fail ? CheckLevel::kFail : v <= warn ? CheckLevel::kWarn : CheckLevel::kOk;
}

std::string Fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

}  // namespace

Result<QualityReport> CheckDataset(const Dataset& ds, const QualityThresholds& th,
                                   const std::function<void(int, int)>& progress) {
  QualityReport rep;
  const DatasetInfo& info = ds.info();
  // features
  {
    std::vector<std::string> extra;
    for (const Feature& f : info.features) {
      bool runtime = f.name == "action" || f.name == "observation.state" ||
                     (f.is_camera() && f.name.rfind("observation.images.", 0) == 0);
      for (auto d : kDefaultFeatures) runtime |= f.name == d;
      if (!runtime) extra.push_back(f.name);
    }
    std::string list;
    for (const auto& e : extra) list += (list.empty() ? "" : ", ") + e;
    rep.checks.push_back({"features", extra.empty() ? CheckLevel::kOk : CheckLevel::kFail,
                          extra.empty() ? std::to_string(info.features.size()) + " features, all seen by the policy at run time"
                                        : "recorded but not available to the policy at run time: " + list});
  }
  // stats
  {
    std::string missing;
    for (const Feature& f : info.features)
      if (f.dtype != "string" && !ds.stats().count(f.name)) missing += (missing.empty() ? "" : ", ") + f.name;
    rep.checks.push_back({"stats", missing.empty() ? CheckLevel::kOk : CheckLevel::kFail,
                          missing.empty() ? "meta/stats.json covers every feature" : "no stats for: " + missing});
  }
  // calibration backups
  {
    const bool sim = info.robot_type.find("sim") != std::string::npos;
    int found = 0;
    std::error_code ec;
    const auto dir = std::filesystem::path(ds.root()) / "meta/calibration";
    if (std::filesystem::is_directory(dir, ec))
      for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
        found += e.path().extension() == ".json";
    rep.checks.push_back({"calibration", found > 0 || sim ? CheckLevel::kOk : CheckLevel::kFail,
                          found > 0 ? std::to_string(found) + " calibration file(s) in meta/calibration/"
                          : sim     ? "simulation (robot_type '" + info.robot_type + "'): no calibration needed"
                                    : "no calibration backup in meta/calibration/ (copy the arm's calibration JSON there)"});
  }
  // per camera: timing at both ends of every episode, drift, lighting, contrast
  auto reader = ds.NewFrameReader();
  const int64_t n_ep = ds.num_episodes();
  int step = 0;
  const int total_steps = static_cast<int>(info.camera_keys().size() * n_ep);
  for (const std::string& cam : info.camera_keys()) {
    std::vector<float> ref;
    double worst_drift = 0, worst_light_in = 0;
    int64_t worst_drift_ep = 0, worst_light_ep = 0;
    std::vector<double> brightness;
    double worst_contrast = 1e9;
    int64_t worst_contrast_ep = 0;
    std::vector<std::string> timing;
    for (int64_t e = 0; e < n_ep; ++e) {
      const int64_t len = ds.episodes()[static_cast<size_t>(e)].length;
      auto first = reader->Image(cam, e, 0);
      auto last = reader->Image(cam, e, len - 1);
      if (progress) progress(++step, total_steps);
      if (!first.ok() || !last.ok()) {
        timing.push_back((first.ok() ? last.status() : first.status()).message());
        continue;
      }
      const std::vector<float> t0 = Thumbnail(*first), t1 = Thumbnail(*last);
      if (ref.empty()) ref = t0;
      double d = 0;
      for (size_t i = 0; i < t0.size(); ++i) d += std::fabs(t0[i] - ref[i]);
      d /= static_cast<double>(t0.size());
      if (d > worst_drift) worst_drift = d, worst_drift_ep = e;
      const double b0 = Mean(t0), b1 = Mean(t1);
      brightness.push_back(b0);
      const double in = std::fabs(b1 - b0) / std::max(1.0, b0);
      if (in > worst_light_in) worst_light_in = in, worst_light_ep = e;
      const double c = Spread(t0);
      if (c < worst_contrast) worst_contrast = c, worst_contrast_ep = e;
    }
    const std::string short_name = cam.substr(cam.rfind('.') + 1);
    rep.checks.push_back({"timing/" + short_name, timing.empty() ? CheckLevel::kOk : CheckLevel::kFail,
                          timing.empty() ? "first and last frame of all " + std::to_string(n_ep) +
                                               " episodes at their timestamps (tolerance " +
                                               Fmt("%.0e s)", ds.options().tolerance_s)
                                         : std::to_string(timing.size()) + " episode(s) with frames missing: " + timing[0]});
    if (brightness.empty()) continue;
    // a wrist/gripper camera moves with the arm: its first frames differ with the start pose
    const bool moving = short_name.find("gripper") != std::string::npos || short_name.find("wrist") != std::string::npos;
    if (moving) {
      rep.checks.push_back({"drift/" + short_name, CheckLevel::kOk, "moving camera (on the arm): drift and lighting not checked"});
      rep.checks.push_back({"contrast/" + short_name, Level(worst_contrast, th.contrast_warn, th.contrast_fail, false),
                            Fmt("lowest grey spread (p95 - p5) %.1f levels (episode %.0f)", worst_contrast,
                                static_cast<double>(worst_contrast_ep))});
      continue;
    }
    rep.checks.push_back({"drift/" + short_name, Level(worst_drift, th.drift_warn, th.drift_fail),
                          Fmt("largest first-frame difference to episode 0: %.1f grey levels (episode %.0f)",
                              worst_drift, static_cast<double>(worst_drift_ep))});
    const double bmin = *std::min_element(brightness.begin(), brightness.end());
    const double bmax = *std::max_element(brightness.begin(), brightness.end());
    const double across = (bmax - bmin) / std::max(1.0, Mean(std::vector<float>(brightness.begin(), brightness.end())));
    rep.checks.push_back({"lighting/" + short_name,
                          std::max(Level(across, th.lighting_warn, th.lighting_fail),
                                   Level(worst_light_in, th.lighting_warn, th.lighting_fail)),
                          Fmt("brightness across episodes %.1f..%.1f (%.1f%%)", bmin, bmax, 100 * across) +
                              Fmt(", within an episode up to %.1f%% (episode %.0f)", 100 * worst_light_in,
                                  static_cast<double>(worst_light_ep))});
    rep.checks.push_back({"contrast/" + short_name, Level(worst_contrast, th.contrast_warn, th.contrast_fail, false),
                          Fmt("lowest grey spread (p95 - p5) %.1f levels (episode %.0f)", worst_contrast,
                              static_cast<double>(worst_contrast_ep))});
  }
  return rep;
}

}  // namespace embody::data
