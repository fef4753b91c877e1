// embody sim: the tea-bag-in-mug task in MuJoCo, run by the scripted expert; success per episode,
// PNG frames, a contact sheet of the three cameras, and physics/render throughput.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>

#include "cli/common.h"
#include "core/timer.h"
#include "sim/contact_sheet.h"
#include "sim/rollout.h"

namespace embody::cli {

namespace {

struct SimArgs {
  int episodes = 10;
  std::string cluster = std::to_string(sim::kValidationCluster);  // or "all"
  bool recovery = false;
  double recovery_fraction = 0.2;
  uint64_t seed = 0;
  std::string frames, show, clusters;
  int height = 480, width = 640;
  double fps = 30;
  bool json = false, bench = false;
};

// Episode i is a recovery episode when the running count of recovery_fraction * i steps up, so
// 0.2 makes every fifth episode one, spread evenly and independent of the seed.
bool IsRecovery(const SimArgs& a, int i) {
  if (a.recovery) return true;
  return static_cast<int>((i + 1) * a.recovery_fraction + 1e-9) > static_cast<int>(i * a.recovery_fraction + 1e-9);
}

Result<std::unique_ptr<sim::TeaBagTask>> LoadTask(const SimArgs& a) {
  sim::TaskOptions opt;
  opt.height = a.height;
  opt.width = a.width;
  opt.control_hz = a.fps;
  if (!a.clusters.empty()) {
    EMBODY_ASSIGN_OR_RETURN(opt.clusters, sim::ParseClusters(a.clusters));
  }
  return sim::TeaBagTask::Load(opt);
}

// --show: one contact sheet (top | gripper | left) of the first tick and one of a mid-grasp tick.
int RunShow(const SimArgs& a, const sim::TeaBagTask& task, int cluster) {
  auto renderer = sim::Renderer::Create(task, a.height, a.width);
  if (!renderer.ok()) return Fail(renderer.status());
  std::vector<io::Image> rows;
  const std::set<int> wanted = {0, 75, 125};  // start, gripper closed on the bag, above the mug
  auto sink = [&](const sim::Frame& f) -> Status {
    if (wanted.count(f.tick)) rows.push_back(sim::ContactSheet({f.images[0], f.images[1], f.images[2]}));
    return Status::Ok();
  };
  auto r = sim::RunExpertEpisode(task, {a.seed, cluster, a.recovery}, renderer->get(), sink);
  if (!r.ok()) return Fail(r.status());
  // stack the rows vertically
  io::Image sheet;
  sheet.width = rows.empty() ? 0 : rows[0].width;
  for (const io::Image& row : rows) {
    sheet.height += row.height;
    sheet.pixels.insert(sheet.pixels.end(), row.pixels.begin(), row.pixels.end());
  }
  if (Status s = io::SavePng(a.show, sheet); !s.ok()) return Fail(s);
  std::printf("wrote %s (%dx%d: rows = ticks 0, 75, 125; columns = top, gripper, left)\n", a.show.c_str(), sheet.width,
              sheet.height);
  return 0;
}

// --bench: control ticks per second of physics alone and of physics + the three cameras.
int RunSimBench(const SimArgs& a, const sim::TeaBagTask& task, int cluster) {
  auto renderer = sim::Renderer::Create(task, a.height, a.width);
  if (!renderer.ok()) return Fail(renderer.status());
  auto time_episode = [&](sim::Renderer* r) -> Result<std::pair<double, int>> {
    int frames = 0;
    Stopwatch sw;
    EMBODY_ASSIGN_OR_RETURN(auto res, sim::RunExpertEpisode(task, {a.seed, cluster, false}, r,
                                                            [&](const sim::Frame&) { ++frames; return Status::Ok(); }));
    return std::make_pair(sw.ElapsedMs() / 1000.0, res.ticks);
  };
  auto physics = time_episode(nullptr);
  if (!physics.ok()) return Fail(physics.status());
  auto rendered = time_episode(renderer->get());
  if (!rendered.ok()) return Fail(rendered.status());
  const double phys_tps = physics->second / physics->first, render_tps = rendered->second / rendered->first;
  const double episode_s = rendered->first;
  if (a.json) {
    PrintJson({{"height", a.height}, {"width", a.width}, {"ticks", physics->second}, {"substeps", task.substeps()},
               {"physics_ticks_per_s", phys_tps}, {"physics_steps_per_s", phys_tps * task.substeps()},
               {"render3_ticks_per_s", render_tps}, {"episode_s", episode_s}, {"est_120_episodes_min", 120 * episode_s / 60}});
    return 0;
  }
  std::printf("episode: %d ticks at %.0f fps, %d physics steps per tick (dt %.2f ms)\n", physics->second, a.fps,
              task.substeps(), task.model()->opt.timestep * 1e3);
  std::printf("physics + expert:        %8.1f ticks/s (%.0f physics steps/s)\n", phys_tps, phys_tps * task.substeps());
  std::printf("+ 3 cameras %4dx%-4d:   %8.1f ticks/s (%.1f ms per tick)\n", a.height, a.width, render_tps, 1e3 / render_tps);
  std::printf("one rendered episode %.1f s; 120 episodes ~ %.1f min\n", episode_s, 120 * episode_s / 60);
  return 0;
}

int RunSim(const SimArgs& a) {
  auto task_or = LoadTask(a);
  if (!task_or.ok()) return Fail(task_or.status());
  const sim::TeaBagTask& task = **task_or;
  std::vector<int> clusters;
  if (a.cluster == "all") {
    for (int c = 0; c < task.num_clusters(); ++c) clusters.push_back(c);
  } else {
    try {
      clusters.push_back(std::stoi(a.cluster));
    } catch (const std::exception&) {
      return Fail(InvalidArgument("--cluster: a number or 'all', got '" + a.cluster + "'"));
    }
    if (clusters[0] < 0 || clusters[0] >= task.num_clusters())
      return Fail(OutOfRange("--cluster " + a.cluster + ": the layout has " + std::to_string(task.num_clusters())));
  }
  if (!a.show.empty()) return RunShow(a, task, clusters[0]);
  if (a.bench) return RunSimBench(a, task, clusters[0]);

  std::unique_ptr<sim::Renderer> renderer;
  if (!a.frames.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.frames, ec);
    if (ec) return Fail(IoError("--frames " + a.frames + ": " + ec.message()));
    auto r = sim::Renderer::Create(task, a.height, a.width);
    if (!r.ok()) return Fail(r.status());
    renderer = std::move(*r);
  }

  io::Json episodes = io::Json::array();
  std::map<int, std::pair<int, int>> per_cluster;  // cluster -> (successes, episodes)
  int index = 0;
  Stopwatch total;
  for (int cluster : clusters) {
    for (int i = 0; i < a.episodes; ++i, ++index) {
      const sim::EpisodeSpec spec{a.seed + static_cast<uint64_t>(i), cluster, IsRecovery(a, i)};
      sim::FrameSink sink;
      if (renderer) {
        sink = [&, index](const sim::Frame& f) {
          char name[64];
          std::snprintf(name, sizeof(name), "/ep%03d_%05d.png", index, f.tick);
          return io::SavePng(a.frames + name, sim::ContactSheet({f.images[0], f.images[1], f.images[2]}));
        };
      }
      Stopwatch sw;
      auto r = sim::RunExpertEpisode(task, spec, renderer.get(), sink);
      if (!r.ok()) return Fail(r.status());
      auto& pc = per_cluster[cluster];
      pc.first += r->success;
      pc.second += 1;
      io::Json e = {{"episode", index}, {"cluster", cluster}, {"seed", spec.seed}, {"recovery", spec.recovery},
                    {"success", r->success}, {"time_to_success", r->time_to_success}, {"attempts", r->attempts},
                    {"sim_s", r->duration}, {"wall_s", sw.ElapsedMs() / 1000.0}};
      episodes.push_back(e);
      if (!a.json)
        std::printf("episode %3d cluster %2d seed %4llu %-8s %-7s time_to_success %5.2f s attempts %d (%.2f s wall)\n",
                    index, cluster, static_cast<unsigned long long>(spec.seed), spec.recovery ? "recovery" : "normal",
                    r->success ? "success" : "FAIL", r->time_to_success, r->attempts, sw.ElapsedMs() / 1000.0);
    }
  }
  int ok = 0, n = 0;
  io::Json summary = io::Json::object();
  for (const auto& [c, sn] : per_cluster) {
    ok += sn.first;
    n += sn.second;
    summary[std::to_string(c)] = {{"success", sn.first}, {"episodes", sn.second}};
  }
  if (a.json) {
    PrintJson({{"episodes", episodes}, {"per_cluster", summary}, {"success_rate", n ? double(ok) / n : 0.0},
               {"wall_s", total.ElapsedMs() / 1000.0}});
  } else {
    for (const auto& [c, sn] : per_cluster) std::printf("cluster %2d: %d/%d\n", c, sn.first, sn.second);
    std::printf("success %d/%d (%.1f%%) in %.1f s\n", ok, n, n ? 100.0 * ok / n : 0.0, total.ElapsedMs() / 1000.0);
  }
  return 0;
}

}  // namespace

void RegisterSim(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<SimArgs>();
  auto* sub = app.add_subcommand("sim", "Tea bag into mug in MuJoCo: run the scripted expert, render the cameras");
  sub->add_option("--episodes", a->episodes, "Episodes per cluster");
  sub->add_option("--cluster", a->cluster, "Cluster id (default 6, the validation cluster) or 'all'");
  sub->add_flag("--recovery", a->recovery, "Every episode starts away from the bag");
  sub->add_option("--recovery-fraction", a->recovery_fraction, "Share of recovery episodes without --recovery")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--seed", a->seed, "Seed of the first episode (episode i uses seed + i)");
  sub->add_option("--frames", a->frames, "Write every tick's three cameras as PNG contact sheets into DIR");
  sub->add_option("--show", a->show, "Write a contact sheet (start, grasp, above mug x top, gripper, left) and exit");
  sub->add_option("--clusters", a->clusters, "Custom layout: x,y,yaw,size;... (metres, radians)");
  sub->add_option("--height", a->height, "Image height");
  sub->add_option("--width", a->width, "Image width");
  sub->add_option("--fps", a->fps, "Control rate (Hz)");
  sub->add_flag("--bench", a->bench, "Measure ticks/s of physics alone and with the three cameras");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a, &run] { run = [a] { return RunSim(*a); }; });
}

}  // namespace embody::cli
