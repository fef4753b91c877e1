// embody teleop: the SO-101 follower copies the SO-101 leader at a fixed rate (LeRobot's
// lerobot-teleoperate). Each tick: sync read the leader, sync read the follower (for
// max_relative_target and the observation), newest frame of each camera, sync write the goals.
// Ctrl-C, --seconds, a bus error or a lost camera end the loop; torque is released on the way out.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/robot_cli.h"

namespace embody::cli {

namespace {

struct TeleopArgs {
  ArmArgs robot, teleop;
  std::vector<std::string> cameras;
  std::vector<double> max_relative_target;
  double fps = 60, seconds = 0;
  bool json = false;
};

int RunTeleop(const TeleopArgs& a) {
  InstallStopHandler();
  auto leader = ConnectCalibratedArm(a.teleop, robot::So101Role::kLeader, {});
  if (!leader.ok()) return Fail(leader.status());
  auto follower = ConnectCalibratedArm(a.robot, robot::So101Role::kFollower, a.max_relative_target);
  if (!follower.ok()) return Fail(follower.status());
  auto cams = StartCameras(a.cameras);
  if (!cams.ok()) return Fail(cams.status());
  std::vector<camera::Frame> frames(cams->size());

  const int64_t max_ticks = static_cast<int64_t>((a.seconds > 0 ? a.seconds : 3600) * a.fps) + 2;
  robot::LoopTimer timer(a.fps, max_ticks);
  robot::JointVector action{}, present{}, sent{};
  int64_t clamped_ticks = 0;
  Status error;
  if (!a.json)
    std::printf("teleoperating %s from %s at %.0f Hz%s; Ctrl-C stops\n", (*follower)->Describe().c_str(),
                (*leader)->Describe().c_str(), a.fps, a.max_relative_target.empty() ? "" : " (max_relative_target on)");
  timer.Start();
  while (!StopRequested() && (a.seconds <= 0 || timer.Elapsed() < a.seconds)) {
    error = (*leader)->ReadJoints(&action);
    if (error.ok()) error = (*follower)->ReadJoints(&present);
    for (size_t i = 0; error.ok() && i < cams->size(); ++i) error = (*cams)[i]->ReadLatest(&frames[i]);
    int clamped = 0;
    if (error.ok()) error = (*follower)->SendAction(action, &present, &sent, &clamped);
    if (!error.ok()) break;
    clamped_ticks += clamped > 0;
    timer.WaitNext();
  }
  const robot::LoopStats stats = timer.Stats();
  // Release the follower now (not at exit) so the report below is printed with the arm safe.
  follower->reset();
  if (a.json) {
    io::Json cams_json = io::Json::array();
    for (const auto& c : *cams) {
      const camera::CameraStats s = c->stats();
      cams_json.push_back({{"name", c->name()}, {"frames", s.frames}, {"repeated_reads", s.repeated}, {"bad_frames", s.bad_frames}});
    }
    PrintJson({{"loop", LoopStatsJson(stats)}, {"leader_bus", BusCountersJson((*leader)->bus().counters())},
               {"clamped_ticks", clamped_ticks}, {"cameras", cams_json},
               {"error", error.ok() ? "" : error.ToString()}});
  } else {
    std::printf("%s\nclamped by max_relative_target on %lld ticks\n", FormatLoopStats(stats).c_str(),
                static_cast<long long>(clamped_ticks));
  }
  if (!error.ok()) return Fail(error.WithContext("teleop stopped, torque released"));
  return 0;
}

}  // namespace

void RegisterTeleop(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<TeleopArgs>();
  auto* sub = app.add_subcommand("teleop", "Drive an SO-101 follower from an SO-101 leader arm");
  AddArmOptions(sub, a->robot, false);
  AddArmOptions(sub, a->teleop, true);
  sub->add_option("--camera", a->cameras, "NAME=SOURCE[,width=,height=,fps=,...] (read each tick, as when recording)");
  sub->add_option("--fps", a->fps, "Control rate (LeRobot's teleoperate default: 60)")->check(CLI::PositiveNumber);
  sub->add_option("--seconds", a->seconds, "Stop after this long (0: until Ctrl-C)");
  sub->add_option("--max-relative-target", a->max_relative_target,
                  "Per-step cap on |goal - present| (one value, or six: one per joint), in joint units")
      ->delimiter(',');
  sub->add_flag("--json", a->json, "Print the loop statistics as JSON");
  sub->callback([&run, a] { run = [a] { return RunTeleop(*a); }; });
}

}  // namespace embody::cli
