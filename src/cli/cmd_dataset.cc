// embody dataset info | check | split | view: inspect, check, split and look at LeRobot datasets.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "cli/common.h"
#include "data/quality.h"
#include "data/reader.h"
#include "data/split.h"
#include "data/view.h"

namespace embody::cli {

namespace {

struct DatasetArgs {
  std::string root;
  bool json = false;
  int val_cluster = 6;
  bool dry_run = false;
  int64_t episode = 0;
  int rows = 4;
  std::string out = "episode.png";
  double tolerance_s = 1e-4;
};

double DirBytes(const std::string& dir) {
  double n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) n += static_cast<double>(e.file_size(ec));
  return n;
}

Result<std::unique_ptr<data::Dataset>> OpenDs(const DatasetArgs& a) {
  data::OpenOptions o;
  o.tolerance_s = a.tolerance_s;
  return data::Dataset::Open(a.root, o);
}

int RunInfo(const DatasetArgs& a) {
  auto ds_or = OpenDs(a);
  if (!ds_or.ok()) return Fail(ds_or.status());
  const data::Dataset& ds = **ds_or;
  const data::DatasetInfo& info = ds.info();
  std::map<int, int> clusters, recovery;
  std::map<std::string, int> splits;
  for (const auto& e : ds.episodes()) {
    clusters[e.cluster]++;
    recovery[e.cluster] += e.recovery;
    splits[e.split.empty() ? "(none)" : e.split]++;
  }
  io::Json feats = io::Json::array();
  for (const auto& f : info.features) {
    io::Json fj = {{"name", f.name}, {"dtype", f.dtype}, {"shape", f.shape}};
    if (f.info.is_object() && f.info.contains("video.codec")) fj["codec"] = f.info["video.codec"];
    feats.push_back(fj);
  }
  io::Json cl = io::Json::object();
  for (const auto& [c, n] : clusters) cl[std::to_string(c)] = {{"episodes", n}, {"recovery", recovery[c]}};
  io::Json j = {{"root", a.root},        {"codebase_version", info.codebase_version},
                {"fps", info.fps},       {"robot_type", info.robot_type},
                {"episodes", ds.num_episodes()}, {"frames", ds.num_frames()},
                {"duration_s", static_cast<double>(ds.num_frames()) / info.fps},
                {"tasks", ds.tasks()},   {"features", feats},
                {"clusters", cl},        {"splits", splits},
                {"bytes", DirBytes(a.root)}};
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  std::printf("%s: LeRobot %s, %d fps, robot %s\n", a.root.c_str(), info.codebase_version.c_str(), info.fps,
              info.robot_type.empty() ? "-" : info.robot_type.c_str());
  std::printf("%lld episodes, %lld frames (%.1f min), %zu task(s), %s on disk\n",
              static_cast<long long>(ds.num_episodes()), static_cast<long long>(ds.num_frames()),
              ds.num_frames() / static_cast<double>(info.fps) / 60, ds.tasks().size(), FormatBytes(DirBytes(a.root)).c_str());
  for (const auto& t : ds.tasks()) std::printf("  task: %s\n", t.c_str());
  std::printf("features:\n");
  for (const auto& f : info.features) {
    std::string shape;
    for (auto d : f.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    std::string codec = f.info.is_object() && f.info.contains("video.codec") ? " " + f.info["video.codec"].get<std::string>() : "";
    std::printf("  %-28s %-8s %s%s\n", f.name.c_str(), f.dtype.c_str(), shape.c_str(), codec.c_str());
  }
  std::printf("clusters (episodes / recovery):");
  for (const auto& [c, n] : clusters) std::printf(" %s:%d/%d", c < 0 ? "?" : std::to_string(c).c_str(), n, recovery[c]);
  std::printf("\nsplits:");
  for (const auto& [s, n] : splits) std::printf(" %s %d", s.c_str(), n);
  std::printf("\n");
  return 0;
}

int RunCheck(const DatasetArgs& a) {
  auto ds_or = OpenDs(a);
  if (!ds_or.ok()) {
    if (a.json) PrintJson({{"ok", false}, {"error", ds_or.status().ToString()}});
    return Fail(ds_or.status());
  }
  Progress bar("check", 1);
  auto rep = data::CheckDataset(**ds_or, {}, [&](int done, int total) {
    if (!a.json) {
      bar = Progress("check", total);
      bar.Step(done);
    }
  });
  if (!a.json) bar.Finish();
  if (!rep.ok()) return Fail(rep.status());
  if (a.json) {
    PrintJson(rep->ToJson());
  } else {
    for (const auto& c : rep->checks)
      std::printf("%-5s %-22s %s\n", c.level == data::CheckLevel::kOk ? "ok" : c.level == data::CheckLevel::kWarn ? "warn" : "FAIL",
                  c.name.c_str(), c.detail.c_str());
    std::printf("%s\n", rep->failed() ? "check FAILED" : "check passed");
  }
  return rep->failed() ? 1 : 0;
}

int RunSplit(const DatasetArgs& a) {
  auto ds_or = OpenDs(a);
  if (!ds_or.ok()) return Fail(ds_or.status());
  data::SplitOptions o;
  o.val_cluster = a.val_cluster;
  auto split = data::ComputeSplit(**ds_or, o);
  if (!split.ok()) return Fail(split.status());
  if (!a.dry_run)
    if (Status s = data::WriteSplit(a.root, *split); !s.ok()) return Fail(s);
  if (a.json) {
    io::Json j = split->ToJson();
    j["written"] = !a.dry_run;
    PrintJson(j);
    return 0;
  }
  std::printf("train: %zu episodes, val (cluster %d): %zu episodes, test: %zu positions (2 per training cluster)%s\n",
              split->train.size(), a.val_cluster, split->val.size(), split->test.size(),
              split->unknown_cluster.empty() ? "" : (", " + std::to_string(split->unknown_cluster.size()) + " without cluster").c_str());
  for (const auto& t : split->test) std::printf("  test cluster %2d seed %llu\n", t.cluster, static_cast<unsigned long long>(t.seed));
  if (!a.dry_run) std::printf("wrote embody/split into meta/episodes and meta/embody_split.json\n");
  return 0;
}

int RunView(const DatasetArgs& a) {
  auto ds_or = OpenDs(a);
  if (!ds_or.ok()) return Fail(ds_or.status());
  auto sheet = data::EpisodeContactSheet(**ds_or, a.episode, a.rows);
  if (!sheet.ok()) return Fail(sheet.status());
  if (Status s = io::SavePng(a.out, *sheet); !s.ok()) return Fail(s);
  std::printf("wrote %s (%dx%d: rows = %d frames of episode %lld, columns = cameras)\n", a.out.c_str(), sheet->width,
              sheet->height, a.rows, static_cast<long long>(a.episode));
  return 0;
}

}  // namespace

void RegisterDataset(CLI::App& app, std::function<int()>& run) {
  auto* ds = app.add_subcommand("dataset", "Inspect, check, split and view LeRobot datasets (v3.0; v2.1 read)");
  ds->require_subcommand(1);
  auto add = [&](const char* name, const char* help, int (*fn)(const DatasetArgs&)) {
    auto a = std::make_shared<DatasetArgs>();
    auto* sub = ds->add_subcommand(name, help);
    sub->add_option("root", a->root, "Dataset directory")->required();
    sub->add_option("--tolerance-s", a->tolerance_s, "Timestamp tolerance (LeRobot's default 1e-4)");
    sub->callback([a, fn, &run] { run = [a, fn] { return fn(*a); }; });
    return std::make_pair(sub, a);
  };
  {
    auto [sub, a] = add("info", "Version, counts, features, clusters, splits", RunInfo);
    sub->add_flag("--json", a->json, "Print JSON");
  }
  {
    auto [sub, a] = add("check", "Quality checks; exit 1 when one fails", RunCheck);
    sub->add_flag("--json", a->json, "Print JSON");
  }
  {
    auto [sub, a] = add("split", "Train/val by cluster and a test list of 2 positions per training cluster", RunSplit);
    sub->add_option("--val-cluster", a->val_cluster, "Held-out validation cluster");
    sub->add_flag("--dry-run", a->dry_run, "Print the split without writing it");
    sub->add_flag("--json", a->json, "Print JSON");
  }
  {
    auto [sub, a] = add("view", "Contact sheet PNG of an episode's cameras", RunView);
    sub->add_option("--episode", a->episode, "Episode index");
    sub->add_option("--rows", a->rows, "Frames (rows) spread over the episode");
    sub->add_option("-o,--output", a->out, "PNG file");
  }
}

}  // namespace embody::cli
