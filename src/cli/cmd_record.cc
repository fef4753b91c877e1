// embody record: record demonstrations into a LeRobot v3.0 dataset. --sim records the simulated
// scripted expert with the study's practice (clusters, a held-out validation cluster, recovery
// episodes); the real-robot recorder drives the same data::DatasetWriter.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/common.h"
#include "cli/robot_cli.h"  // record --robot (issue 10)
#include "data/sim_recording.h"

namespace embody::cli {

namespace {

struct RecordArgs {
  bool sim = false, resume = false, json = false;
  std::string out = "datasets/sim_tea_bag";
  int episodes = 120, clusters = 11, val_cluster = 6;
  double recovery = 0.2;
  uint64_t seed = 0;
  int height = 480, width = 640, fps = 30;
  std::string codec = "libsvtav1";
};

int RunRecord(const RecordArgs& a) {
  if (!a.sim)
    return Fail(InvalidArgument("embody record needs --sim (the simulated expert) or --robot so101 --port ... "
                                "--teleop so101-leader --teleop-port ... (the real arm)"));
  sim::TaskOptions topt;
  topt.height = a.height;
  topt.width = a.width;
  topt.control_hz = a.fps;
  auto task = sim::TeaBagTask::Load(topt);
  if (!task.ok()) return Fail(task.status());
  auto renderer = sim::Renderer::Create(**task, a.height, a.width);
  if (!renderer.ok()) return Fail(renderer.status());
  data::WriterOptions wopt;
  wopt.video.codecs = {a.codec, "libx264"};
  auto writer = a.resume ? data::DatasetWriter::Resume(a.out, wopt)
                         : data::DatasetWriter::Create(a.out, data::SimDatasetSpec(**task, a.height, a.width), wopt);
  if (!writer.ok()) return Fail(writer.status());
  data::SimRecordOptions ro;
  ro.episodes = a.episodes;
  ro.clusters = a.clusters;
  ro.val_cluster = a.val_cluster;
  ro.recovery = a.recovery;
  ro.seed = a.seed;
  const int start = static_cast<int>((*writer)->num_episodes());
  if (start >= a.episodes) {
    std::fprintf(stderr, "%s already has %d episodes (--episodes %d): nothing to record\n", a.out.c_str(), start,
                 a.episodes);
    return 0;
  }
  Progress bar("record", a.episodes);
  bar.Step(start);
  data::SimRecordStats st;
  Status s = data::RecordSimEpisodes(**task, renderer->get(), writer->get(), ro,
                                     [&](int done, int) { bar.Step(done); }, &st);
  bar.Finish();
  if (!s.ok()) return Fail(s);
  if (Status c = (*writer)->Close(); !c.ok()) return Fail(c);
  const double fps_all = st.wall_s > 0 ? st.frames / st.wall_s : 0;
  const double rec_s = st.add_frame_s + st.commit_s;
  io::Json j = {{"dataset", a.out},
                {"episodes_recorded", st.episodes},
                {"episodes_total", (*writer)->num_episodes()},
                {"frames", st.frames},
                {"successes", st.successes},
                {"recovery_episodes", st.recovery_episodes},
                {"cameras", 3},
                {"height", a.height},
                {"width", a.width},
                {"encoder", (*writer)->encoder_name()},
                {"wall_s", st.wall_s},
                {"frames_per_s", fps_all},
                {"render_s", st.render_s},
                {"add_frame_ms_per_frame", st.frames ? 1e3 * st.add_frame_s / st.frames : 0},
                {"commit_s", st.commit_s},
                {"recorder_frames_per_s", rec_s > 0 ? st.frames / rec_s : 0},
                {"encoder_stalls", (*writer)->stalls()}};
  if (a.json) {
    PrintJson(j);
    return 0;
  }
  std::printf("recorded %d episodes (%d successful, %d recovery), %lld frames x 3 cameras %dx%d into %s (%s)\n",
              st.episodes, st.successes, st.recovery_episodes, static_cast<long long>(st.frames), a.width, a.height,
              a.out.c_str(), (*writer)->encoder_name().c_str());
  std::printf("%.1f frames/s overall (%.1f s: simulation+rendering %.1f s, AddFrame %.2f ms/frame, commits %.1f s); "
              "encoder stalls %lld\n",
              fps_all, st.wall_s, st.render_s, j["add_frame_ms_per_frame"].get<double>(), st.commit_s,
              static_cast<long long>((*writer)->stalls()));
  return 0;
}

}  // namespace

void RegisterRecord(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<RecordArgs>();
  auto* sub = app.add_subcommand("record", "Record demonstrations into a LeRobot v3.0 dataset");
  sub->add_flag("--sim", a->sim, "Record the simulated scripted expert (tea bag into mug)");
  sub->add_option("-o,--output", a->out, "Dataset directory (new, or existing with --resume)");
  sub->add_flag("--resume", a->resume, "Continue an existing dataset (drops a crashed episode's leftovers)");
  sub->add_option("--episodes", a->episodes, "Episodes in the dataset when done")->check(CLI::PositiveNumber);
  sub->add_option("--clusters", a->clusters, "Workspace clusters in rotation (0..N-1)")->check(CLI::PositiveNumber);
  sub->add_option("--val-cluster", a->val_cluster, "Held-out validation cluster")->check(CLI::NonNegativeNumber);
  sub->add_option("--recovery", a->recovery, "Share of recovery episodes")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--seed", a->seed, "Seed of episode 0 (episode i uses seed + i)");
  sub->add_option("--height", a->height, "Camera height");
  sub->add_option("--width", a->width, "Camera width");
  sub->add_option("--fps", a->fps, "Frames per second (control rate)");
  sub->add_option("--vcodec", a->codec, "Video encoder (libsvtav1 as LeRobot; libx264 is the fallback)");
  sub->add_flag("--json", a->json, "Print the summary as JSON");
  auto robot = std::make_shared<RobotRecordArgs>();  // --robot so101 --teleop so101-leader ...: the real arm
  AddRobotRecordOptions(sub, *robot);
  sub->callback([a, robot, &run] {
    run = [a, robot] {
      if (robot->robot.type.empty()) return RunRecord(*a);
      return RecordRobot(*robot, {.out = a->out, .codec = a->codec, .resume = a->resume, .json = a->json,
                                  .episodes = a->episodes, .fps = a->fps});
    };
  });
}

}  // namespace embody::cli
