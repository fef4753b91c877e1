// embody record --robot so101 --port P --teleop so101-leader --teleop-port Q --camera top=/dev/video0 ...
// LeRobot's lerobot-record on the real arm: per episode, a record phase (--episode-seconds) where
// every tick reads the leader (the action), the follower (the state) and each camera's newest
// frame, sends the action to the follower and appends the frame to the dataset; then a reset phase
// (--reset-seconds, teleop continues, nothing recorded). As in LeRobot the teleop action before
// max_relative_target clipping is what is recorded.
//
// Episodes are committed one by one (data::DatasetWriter), so every finished episode survives a
// crash, a lost camera or a bus error; the episode in progress when the hardware fails is
// dropped (its data is incomplete). Ctrl-C ends the current episode and saves it (LeRobot's Esc).
// The arms' calibration files are copied into <dataset>/meta/calibration/.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/common.h"
#include "cli/robot_cli.h"
#include "data/writer.h"

namespace embody::cli {

void AddRobotRecordOptions(CLI::App* sub, RobotRecordArgs& a) {
  AddArmOptions(sub, a.robot, false);
  AddArmOptions(sub, a.teleop, true);
  sub->add_option("--camera", a.cameras, "--robot: NAME=SOURCE[,width=,height=,fps=,...], stored as observation.images.NAME");
  sub->add_option("--task", a.task, "--robot: the task string stored with every frame");
  sub->add_option("--episode-seconds", a.episode_seconds, "--robot: length of each recorded episode");
  sub->add_option("--reset-seconds", a.reset_seconds, "--robot: teleop without recording between episodes");
  sub->add_option("--max-relative-target", a.max_relative_target, "--robot: per-step cap on the follower's goals")
      ->delimiter(',');
}

namespace {
namespace fs = std::filesystem;

Status CopyCalibrations(const RobotRecordArgs& a, const std::string& root) {
  struct Item {
    const ArmArgs* arm;
    robot::So101Role role;
  };
  for (const Item& it : {Item{&a.robot, robot::So101Role::kFollower}, Item{&a.teleop, robot::So101Role::kLeader}}) {
    const std::string src = CalibrationPathFor(*it.arm, it.role);
    const fs::path dir = fs::path(root) / "meta" / "calibration" / std::string(robot::So101RoleName(it.role));
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec) fs::copy_file(src, dir / fs::path(src).filename(), fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError("copying calibration " + src + " into " + dir.string() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

int RecordRobot(const RobotRecordArgs& a, const RobotRecordCommon& c) {
  InstallStopHandler();
  if (a.teleop.type.empty()) return Fail(InvalidArgument("embody record --robot needs a leader arm: --teleop so101-leader --teleop-port ..."));
  auto leader = ConnectCalibratedArm(a.teleop, robot::So101Role::kLeader, {});
  if (!leader.ok()) return Fail(leader.status());
  auto follower = ConnectCalibratedArm(a.robot, robot::So101Role::kFollower, a.max_relative_target);
  if (!follower.ok()) return Fail(follower.status());
  auto cams = StartCameras(a.cameras);
  if (!cams.ok()) return Fail(cams.status());

  data::DatasetSpec spec;
  spec.fps = c.fps;
  spec.robot_type = "so101_follower";
  for (std::string_view n : robot::kSo101MotorNames) spec.state_names.push_back(std::string(n) + ".pos");
  spec.action_names = spec.state_names;
  for (const auto& cam : *cams) spec.cameras.push_back({cam->name(), cam->grabber().height(), cam->grabber().width()});
  data::WriterOptions wopt;
  wopt.video.codecs = {c.codec, "libx264"};
  auto writer = c.resume ? data::DatasetWriter::Resume(c.out, wopt) : data::DatasetWriter::Create(c.out, spec, wopt);
  if (!writer.ok()) return Fail(writer.status());
  if (Status s = CopyCalibrations(a, c.out); !s.ok()) return Fail(s);

  std::vector<camera::Frame> frames(cams->size());
  robot::JointVector state{}, action{}, sent{};
  data::FrameInput fin;
  fin.state = state.data();
  fin.action = action.data();
  fin.images.resize(cams->size());
  io::Json episodes = io::Json::array();
  Status error;
  const int64_t first = (*writer)->num_episodes();
  // One tick of teleoperation; `record` appends it to the open episode.
  auto tick = [&](bool record) -> Status {
    EMBODY_TRY((*leader)->ReadJoints(&action));
    EMBODY_TRY((*follower)->ReadJoints(&state));
    for (size_t i = 0; i < cams->size(); ++i) {
      EMBODY_TRY((*cams)[i]->ReadLatest(&frames[i]));
      fin.images[i] = frames[i].rgb.data();
    }
    EMBODY_TRY((*follower)->SendAction(action, &state, &sent));
    if (record) EMBODY_TRY((*writer)->AddFrame(fin));
    return Status::Ok();
  };
  for (int64_t e = first; e < c.episodes && error.ok() && !StopRequested(); ++e) {
    data::EpisodeMeta meta;
    meta.task = a.task;
    if (Status s = (*writer)->BeginEpisode(meta); !s.ok()) {
      error = s;
      break;
    }
    if (!c.json) std::printf("episode %lld: recording %.0f s\n", static_cast<long long>(e), a.episode_seconds);
    std::fflush(stdout);
    robot::LoopTimer timer(c.fps, static_cast<int64_t>(a.episode_seconds * c.fps) + 2);
    int64_t n = 0;
    timer.Start();
    while (!StopRequested() && timer.Elapsed() < a.episode_seconds) {
      error = tick(true);
      if (!error.ok()) break;
      ++n;
      timer.WaitNext();
    }
    if (!error.ok() || n == 0) {
      (*writer)->DiscardEpisode();  // incomplete: the committed episodes stay as they are
      if (!error.ok()) std::fprintf(stderr, "episode %lld dropped (%lld frames)\n", static_cast<long long>(e), static_cast<long long>(n));
      break;
    }
    auto summary = (*writer)->EndEpisode();
    if (!summary.ok()) {
      error = summary.status();
      break;
    }
    const robot::LoopStats st = timer.Stats();
    episodes.push_back({{"episode_index", summary->episode_index}, {"frames", summary->frames},
                        {"commit_ms", summary->commit_ms}, {"loop", LoopStatsJson(st)}});
    if (!c.json)
      std::printf("episode %lld saved: %lld frames, %s, commit %.0f ms\n", static_cast<long long>(summary->episode_index),
                  static_cast<long long>(summary->frames), FormatLoopStats(st).c_str(), summary->commit_ms);
    if (e + 1 < c.episodes && a.reset_seconds > 0 && !StopRequested()) {
      if (!c.json) std::printf("reset the scene: %.0f s (teleop on, not recorded)\n", a.reset_seconds);
      std::fflush(stdout);
      robot::LoopTimer reset(c.fps, 2);
      reset.Start();
      while (!StopRequested() && reset.Elapsed() < a.reset_seconds && error.ok()) {
        error = tick(false);
        reset.WaitNext();
      }
    }
  }
  follower->reset();  // torque off before the (possibly slow) close
  const Status closed = (*writer)->Close();
  if (c.json) {
    PrintJson({{"dataset", c.out}, {"episodes_total", (*writer)->num_episodes()}, {"frames_total", (*writer)->total_frames()},
               {"encoder", (*writer)->encoder_name()}, {"stalls", (*writer)->stalls()}, {"episodes", episodes},
               {"error", error.ok() ? "" : error.ToString()}});
  } else {
    std::printf("%s: %lld episodes, %lld frames (encoder %s)\n", c.out.c_str(),
                static_cast<long long>((*writer)->num_episodes()), static_cast<long long>((*writer)->total_frames()),
                (*writer)->encoder_name().c_str());
  }
  if (!error.ok()) return Fail(error.WithContext("recording stopped, torque released, finished episodes kept"));
  if (!closed.ok()) return Fail(closed);
  return 0;
}

}  // namespace embody::cli
