// The real arm under a policy, and the emulated arm for trying it without one:
//
//   embody run --robot so101 --port P --policy CKPT|oracle --camera top=/dev/video0 ...
//       deploys a chunking policy through the asynchronous runtime (runtime/async): the control
//       loop reads the arm, pops the next action and sends it at a fixed rate; the inference
//       thread observes (joints + newest camera frames) and merges chunks. When the queue runs
//       out the arm holds its last goal; when the policy fails the loop stops sending, holds for
//       --hold-seconds and releases torque. max_relative_target caps every step.
//   embody robot-bench   the same loop on the emulated bus (pty) with generated cameras: jitter.
//   embody robot-emulator  an emulated SO-101 (and leader) on pseudo-terminals for the other
//       commands, with scripted hand motion and faults.
//
// On the real arm `--policy oracle` is a scripted slow sway around the start pose (the sim's
// oracle needs privileged state a real arm does not have): it exercises the loop and the queue.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "camera/synthetic.h"
#include "cli/common.h"
#include "cli/policy_type.h"
#include "cli/robot_cli.h"
#include "robot/feetech_protocol.h"
#include "robot/servo_emulator.h"
#include "runtime/async/act_chunk_policy.h"
#include "runtime/async/async_inference.h"
#include "runtime/async/smolvla_chunk_policy.h"

namespace embody::cli {

namespace {

using robot::JointVector;
using robot::kSo101Joints;

// A slow sinusoidal sway of every joint around the pose of the first observation; chunks are a
// function of the absolute timestep, so consecutive chunks agree. Latency is simulated by sleeping.
class SwayPolicy final : public runtime::Policy {
 public:
  SwayPolicy(int chunk, double fps, double latency_ms) : chunk_(chunk), fps_(fps), latency_ms_(latency_ms) {
    latencies_.push_back({"sway", 0});
  }
  std::string_view name() const override { return "oracle (scripted sway)"; }
  int chunk_size() const override { return chunk_; }
  int action_dim() const override { return kSo101Joints; }
  void Reset() override { have_center_ = false; }
  Status PredictChunk(const runtime::PolicyObservation& obs, float* chunk) override {
    const auto start = std::chrono::steady_clock::now();
    if (!obs.state) return InvalidArgument("sway policy needs the joint state");
    if (!have_center_) {
      for (int j = 0; j < kSo101Joints; ++j) center_[j] = obs.state[j];
      have_center_ = true;
    }
    for (int i = 0; i < chunk_; ++i) {
      const double t = static_cast<double>(obs.timestep + i) / fps_;
      for (int j = 0; j < kSo101Joints; ++j) {
        // 8 degrees (gripper: 8 of 100) at 0.2-0.45 Hz, a different phase per joint
        const double amp = 8.0, f = 0.2 + 0.05 * j;
        chunk[i * kSo101Joints + j] = static_cast<float>(center_[j] + amp * std::sin(2 * M_PI * f * t + j));
      }
    }
    if (latency_ms_ > 0) std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<int64_t>(latency_ms_ * 1000)));
    latencies_[0].ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return Status::Ok();
  }
  const std::vector<runtime::BlockLatency>& last_latencies() const override { return latencies_; }

 private:
  int chunk_;
  double fps_, latency_ms_;
  bool have_center_ = false;
  JointVector center_{};
  std::vector<runtime::BlockLatency> latencies_;
};

struct PolicyCamera {
  std::string name;  // "top" for observation.images.top
  int height = 0, width = 0;
};

struct PolicySetup {
  std::unique_ptr<runtime::Policy> policy;
  std::vector<PolicyCamera> cameras;
};

std::string CameraName(const std::string& key) {
  const std::string prefix = "observation.images.";
  return key.rfind(prefix, 0) == 0 ? key.substr(prefix.size()) : key;
}

Result<PolicySetup> MakeRobotPolicy(const RunPolicyArgs& a, double fps) {
  PolicySetup p;
  if (a.policy == "oracle") {
    if (a.chunk < 2) return InvalidArgument("--chunk must be at least 2");
    p.policy = std::make_unique<SwayPolicy>(a.chunk, fps, a.oracle_latency_ms);
    return p;
  }
  EMBODY_ASSIGN_OR_RETURN(std::string type, PolicyType(a.policy));
  if (type == "act") {
    models::act::ActOptions opt;
    opt.threads = a.threads;
    EMBODY_ASSIGN_OR_RETURN(auto model, models::act::ActModel::Load(a.policy, opt));
    if (model->config().state_dim() != kSo101Joints || model->config().action_dim() != kSo101Joints)
      return InvalidArgument(a.policy + ": state/action have " + std::to_string(model->config().state_dim()) + "/" +
                             std::to_string(model->config().action_dim()) + " values; an SO-101 has 6 joints");
    for (size_t i = 0; i < model->config().num_cameras(); ++i) {
      const auto& f = model->config().camera(i);
      p.cameras.push_back({CameraName(f.key), static_cast<int>(f.shape[1]), static_cast<int>(f.shape[2])});
    }
    p.policy = std::make_unique<runtime::ActChunkPolicy>(std::move(model));
  } else {
    models::smolvla::SmolVlaOptions opt;
    opt.threads = a.threads;
    EMBODY_ASSIGN_OR_RETURN(auto model, models::smolvla::SmolVlaModel::Load(a.policy, opt));
    for (size_t i = 0; i < model->config().num_cameras(); ++i) {
      const auto& f = model->config().camera(i);
      p.cameras.push_back({CameraName(f.key), static_cast<int>(f.shape[1]), static_cast<int>(f.shape[2])});
    }
    p.policy = std::make_unique<runtime::SmolVlaChunkPolicy>(std::move(model), a.task);
  }
  if (p.policy->action_dim() != kSo101Joints)
    return InvalidArgument(a.policy + ": the policy predicts " + std::to_string(p.policy->action_dim()) +
                           " values per action; an SO-101 has 6 joints");
  return p;
}

// Which --camera feeds each policy camera; sizes must match what the policy was trained on.
Result<std::vector<int>> MapCameras(const std::vector<PolicyCamera>& wanted,
                                    const std::vector<std::unique_ptr<camera::Camera>>& cams) {
  std::vector<int> map;
  for (const PolicyCamera& w : wanted) {
    int found = -1;
    for (size_t i = 0; i < cams.size(); ++i)
      if (cams[i]->name() == w.name) found = static_cast<int>(i);
    if (found < 0) {
      std::string have;
      for (const auto& c : cams) have += (have.empty() ? "" : ", ") + c->name();
      return InvalidArgument("the policy needs camera '" + w.name + "' (" + std::to_string(w.width) + "x" +
                             std::to_string(w.height) + "): add --camera " + w.name + "=/dev/videoN,width=" +
                             std::to_string(w.width) + ",height=" + std::to_string(w.height) + " (given: " +
                             (have.empty() ? "none" : have) + ")");
    }
    const camera::FrameGrabber& g = cams[found]->grabber();
    if (g.width() != w.width || g.height() != w.height)
      return InvalidArgument("camera " + w.name + " (" + g.device() + ") delivers " + std::to_string(g.width()) + "x" +
                             std::to_string(g.height()) + ", the policy expects " + std::to_string(w.width) + "x" +
                             std::to_string(w.height) + ": set width=,height= in its --camera");
    map.push_back(found);
  }
  return map;
}

struct LoopReport {
  robot::LoopStats stats;
  int64_t actions = 0, idle_ticks = 0, clamped_ticks = 0, startup_ticks = -1;
  int inferences = 0, late = 0;
  std::string policy_error, warning;
  Status error;  // the arm or a camera failed
  double camera_read_ms_p99 = 0;
};

// The control loop of `run --robot` and `robot-bench`. `read_cameras` also copies every camera's
// newest frame in the loop (what recording does), on top of the inference thread's reads.
LoopReport RunPolicyLoop(robot::So101Arm& arm, std::vector<std::unique_ptr<camera::Camera>>& cams,
                         runtime::Policy& policy, const std::vector<PolicyCamera>& policy_cams,
                         const std::vector<int>& cam_map, const RunPolicyArgs& pa, double fps, double seconds,
                         bool read_cameras) {
  LoopReport rep;
  runtime::ActionQueue queue(policy.chunk_size(), kSo101Joints);
  std::mutex snap_mu;
  JointVector snapshot{};
  // The inference thread's buffers: filled from the snapshot and the cameras' newest frames.
  std::vector<camera::Frame> policy_frames(policy_cams.size());
  std::vector<runtime::PolicyImage> images(policy_cams.size());
  JointVector obs_state{};
  auto observe = [&](runtime::PolicyObservation* obs) -> Status {
    {
      std::lock_guard<std::mutex> lock(snap_mu);
      obs_state = snapshot;
    }
    obs->state = obs_state.data();
    obs->task = pa.task;
    for (size_t i = 0; i < policy_cams.size(); ++i) {
      EMBODY_TRY(cams[cam_map[i]]->ReadLatest(&policy_frames[i]));
      images[i] = {policy_frames[i].rgb.data(), policy_frames[i].height, policy_frames[i].width};
    }
    obs->images = images;
    return Status::Ok();
  };
  runtime::AsyncOptions ao;
  ao.threshold = pa.threshold;
  ao.period_ms = 1000.0 / fps;
  auto agg = runtime::ParseAggregate(pa.aggregate);
  if (!agg.ok()) {
    rep.error = agg.status();
    return rep;
  }
  ao.merge.aggregate = *agg;

  JointVector present{}, action{}, sent{};
  if (Status s = arm.ReadJoints(&present); !s.ok()) {
    rep.error = s;
    return rep;
  }
  snapshot = present;
  queue.Reset(present.data());
  policy.Reset();
  runtime::AsyncInference inference(policy, queue, observe, ao);
  std::vector<camera::Frame> loop_frames(read_cameras ? cams.size() : 0);
  std::vector<double> cam_ms;
  robot::LoopTimer timer(fps, static_cast<int64_t>(seconds * fps) + 2);
  cam_ms.reserve(static_cast<size_t>(seconds * fps) + 2);
  inference.Start();
  timer.Start();
  int64_t tick = 0;
  for (; !StopRequested() && timer.Elapsed() < seconds; ++tick) {
    if (Status s = arm.ReadJoints(&present); !s.ok()) {
      rep.error = s;
      break;
    }
    {
      std::lock_guard<std::mutex> lock(snap_mu);
      snapshot = present;
    }
    if (read_cameras) {
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i < cams.size() && rep.error.ok(); ++i) rep.error = cams[i]->ReadLatest(&loop_frames[i]);
      if (!rep.error.ok()) break;
      if (cam_ms.size() < cam_ms.capacity())
        cam_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    if (inference.failed()) {  // hold: nothing more is sent
      rep.policy_error = inference.error();
      break;
    }
    int64_t step = 0;
    if (queue.Pop(action.data(), &step)) {
      int clamped = 0;
      if (Status s = arm.SendAction(action, &present, &sent, &clamped); !s.ok()) {
        rep.error = s;
        break;
      }
      ++rep.actions;
      rep.clamped_ticks += clamped > 0;
      if (rep.startup_ticks < 0) rep.startup_ticks = tick;
    } else {
      ++rep.idle_ticks;  // the arm holds its last goal
    }
    timer.WaitNext();
  }
  inference.Stop();
  if (rep.policy_error.empty() && inference.failed()) rep.policy_error = inference.error();
  rep.stats = timer.Stats();
  rep.inferences = inference.inferences();
  rep.late = inference.late();
  rep.warning = inference.warning();
  if (!cam_ms.empty()) {
    std::sort(cam_ms.begin(), cam_ms.end());
    rep.camera_read_ms_p99 = cam_ms[std::min(cam_ms.size() - 1, static_cast<size_t>(0.99 * cam_ms.size()))];
  }
  return rep;
}

io::Json ReportJson(const LoopReport& r, robot::So101Arm& arm) {
  return {{"loop", LoopStatsJson(r.stats)},
          {"actions_sent", r.actions},
          {"idle_ticks", r.idle_ticks},
          {"startup_ticks", r.startup_ticks},
          {"clamped_ticks", r.clamped_ticks},
          {"inferences", r.inferences},
          {"late_inferences", r.late},
          {"camera_copy_p99_ms", r.camera_read_ms_p99},
          {"bus", BusCountersJson(arm.bus().counters())},
          {"policy_error", r.policy_error},
          {"warning", r.warning},
          {"error", r.error.ok() ? "" : r.error.ToString()}};
}

void PrintReport(const LoopReport& r) {
  std::printf("%s\n", FormatLoopStats(r.stats).c_str());
  std::printf("actions sent %lld, held (queue empty) %lld ticks, first action at tick %lld, clamped %lld ticks; "
              "%d inferences (%d late)\n",
              static_cast<long long>(r.actions), static_cast<long long>(r.idle_ticks),
              static_cast<long long>(r.startup_ticks), static_cast<long long>(r.clamped_ticks), r.inferences, r.late);
  if (!r.warning.empty()) std::printf("warning: %s\n", r.warning.c_str());
}

}  // namespace

void AddRobotRunOptions(CLI::App* sub, RobotRunArgs& a) {
  AddArmOptions(sub, a.arm, false);
  sub->add_option("--camera", a.cameras, "--robot: NAME=SOURCE[,width=,height=,fps=,...], one per policy camera");
  sub->add_option("--fps", a.fps, "--robot: control rate")->check(CLI::PositiveNumber);
  sub->add_option("--seconds", a.seconds, "--robot: how long to run");
  sub->add_option("--hold-seconds", a.hold_seconds, "--robot: after a policy failure, hold this long before releasing torque");
  sub->add_option("--max-relative-target", a.max_relative_target,
                  "--robot: per-step cap on |goal - present| (one value or six), joint units")
      ->delimiter(',');
  sub->add_flag("--keep-torque", a.keep_torque, "--robot: leave torque on at exit (LeRobot's disable_torque_on_disconnect=false)");
}

int RunRobot(const RobotRunArgs& r, const RunPolicyArgs& pa) {
  InstallStopHandler();
  auto setup = MakeRobotPolicy(pa, r.fps);
  if (!setup.ok()) return Fail(setup.status());
  auto cams = StartCameras(r.cameras);
  if (!cams.ok()) return Fail(cams.status());
  auto map = MapCameras(setup->cameras, *cams);
  if (!map.ok()) return Fail(map.status());
  auto arm = ConnectCalibratedArm(r.arm, robot::So101Role::kFollower, r.max_relative_target, !r.keep_torque);
  if (!arm.ok()) return Fail(arm.status());
  if (!pa.json)
    std::printf("running %s on %s at %.0f Hz for %.0f s (chunk %d, threshold %.2f); Ctrl-C stops\n",
                std::string(setup->policy->name()).c_str(), (*arm)->Describe().c_str(), r.fps, r.seconds,
                setup->policy->chunk_size(), pa.threshold);
  LoopReport rep = RunPolicyLoop(**arm, *cams, *setup->policy, setup->cameras, *map, pa, r.fps, r.seconds, false);
  if (!rep.policy_error.empty() && rep.error.ok()) {
    // Hold the last goal (nothing more is sent) so the user can take the arm before it goes limp.
    std::fprintf(stderr, "policy failed: %s\nholding position for %.1f s, then releasing torque\n",
                 rep.policy_error.c_str(), r.hold_seconds);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(r.hold_seconds);
    while (!StopRequested() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const io::Json j = ReportJson(rep, **arm);
  arm->reset();  // torque released here (unless --keep-torque)
  if (pa.json) {
    PrintJson({{"policy", std::string(setup->policy->name())}, {"port", r.arm.port}, {"run", j}});
  } else {
    PrintReport(rep);
  }
  if (!rep.error.ok()) return Fail(rep.error.WithContext("run stopped, torque released"));
  if (!rep.policy_error.empty()) return Fail(Internal("policy failed: " + rep.policy_error));
  return 0;
}

namespace {

// ---------------------------------------------------------------- robot-bench

struct BenchArgs {
  std::string hz = "30,60", policy = "oracle";
  double seconds = 10, camera_fps = 30, oracle_latency_ms = 100;
  int cameras = 3, width = 640, height = 480, chunk = 50, threads = 0;
  bool json = false;
};

int RunRobotBench(const BenchArgs& a) {
  InstallStopHandler();
  std::vector<double> rates;
  {
    auto r = ParseFloats(a.hz, "--hz");
    if (!r.ok()) return Fail(r.status());
    for (float v : *r) rates.push_back(v);
  }
  RunPolicyArgs pa;
  pa.policy = a.policy;
  pa.chunk = a.chunk;
  pa.threads = a.threads;
  pa.oracle_latency_ms = a.oracle_latency_ms;
  io::Json runs = io::Json::array();
  std::string camera_note;
  if (!a.json)
    std::printf("| Hz | period jitter p50 (ms) | p99 (ms) | max (ms) | missed deadlines | work p50/p99 (ms) | camera copy p99 (ms) | bus retries | inferences | held ticks |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n");
  for (double hz : rates) {
    auto setup = MakeRobotPolicy(pa, hz);
    if (!setup.ok()) return Fail(setup.status());
    // Cameras: the policy's (ACT) or `--cameras` generated ones (oracle), all read in the loop.
    std::vector<std::unique_ptr<camera::Camera>> cams;
    if (setup->cameras.empty())
      for (int i = 0; i < a.cameras; ++i) setup->cameras.push_back({"cam" + std::to_string(i), a.height, a.width});
    for (size_t i = 0; i < setup->cameras.size(); ++i) {
      camera::GeneratedOptions go;
      go.width = setup->cameras[i].width;
      go.height = setup->cameras[i].height;
      go.fps = a.camera_fps;
      go.seed = i;
      auto cam = camera::Camera::Start(setup->cameras[i].name, std::make_unique<camera::GeneratedGrabber>(go));
      if (!cam.ok()) return Fail(cam.status());
      cams.push_back(std::move(*cam));
    }
    const bool policy_uses_cams = a.policy != "oracle";
    std::vector<int> map;
    for (size_t i = 0; i < setup->cameras.size() && policy_uses_cams; ++i) map.push_back(static_cast<int>(i));
    std::vector<PolicyCamera> pcams = policy_uses_cams ? setup->cameras : std::vector<PolicyCamera>{};

    // The emulated arm on a real pty (termios, wire time at 1 Mbaud, 6 servos).
    robot::PtyServoBus bus;
    if (!bus.ok()) return Fail(IoError("robot-bench: cannot create a pseudo-terminal: " + bus.error()));
    bus.With([](robot::ServoEmulator& e) {
      for (uint8_t id : robot::kSo101Ids) e.AddServo(id, 2048);
    });
    robot::So101Options o;
    o.port = bus.slave_path();
    auto arm = robot::So101Arm::Connect(o);
    if (!arm.ok()) return Fail(arm.status());
    const robot::Calibration cal = robot::MakeSo101Calibration(
        robot::RawVector{}, robot::RawVector{1024, 1024, 1024, 1024, 0, 1024}, robot::RawVector{3072, 3072, 3072, 3072, 4095, 3072});
    if (Status s = (*arm)->WriteCalibration(cal); !s.ok()) return Fail(s);
    if (Status s = (*arm)->Configure(); !s.ok()) return Fail(s);
    LoopReport rep = RunPolicyLoop(**arm, cams, *setup->policy, pcams, map, pa, hz, a.seconds, true);
    io::Json j = ReportJson(rep, **arm);
    j["cameras"] = static_cast<int>(cams.size());
    j["camera_fps"] = a.camera_fps;
    j["policy"] = std::string(setup->policy->name());
    camera_note = cams.empty() ? std::string("no cameras")
                               : std::to_string(cams.size()) + " generated camera(s) " +
                                     std::to_string(setup->cameras[0].width) + "x" + std::to_string(setup->cameras[0].height);
    runs.push_back(j);
    if (!a.json) {
      const robot::LoopStats& s = rep.stats;
      std::printf("| %.0f | %.3f | %.3f | %.3f | %lld / %lld | %.2f / %.2f | %.2f | %llu | %d | %lld |\n", hz, s.jitter_p50_ms,
                  s.jitter_p99_ms, s.jitter_max_ms, static_cast<long long>(s.missed), static_cast<long long>(s.ticks),
                  s.work_p50_ms, s.work_p99_ms, rep.camera_read_ms_p99,
                  static_cast<unsigned long long>((*arm)->bus().counters().retries), rep.inferences,
                  static_cast<long long>(rep.idle_ticks));
      if (!rep.error.ok()) std::printf("error: %s\n", rep.error.ToString().c_str());
      if (!rep.policy_error.empty()) std::printf("policy error: %s\n", rep.policy_error.c_str());
    }
    if (StopRequested()) break;
  }
  if (a.json) {
    PrintJson({{"servos", kSo101Joints}, {"bus", "emulated STS3215 on a pty, 1 Mbaud wire time"},
               {"seconds", a.seconds}, {"runs", runs}});
  } else {
    std::printf("6 emulated STS3215 on a pty (sync read + sync write per tick, 1 Mbaud wire time), %s at %.0f fps "
                "copied every tick, policy %s asynchronous, %.0f s per rate\n",
                camera_note.c_str(), a.camera_fps, a.policy.c_str(), a.seconds);
  }
  return 0;
}

// ---------------------------------------------------------------- robot-emulator

struct EmulatorArgs {
  std::string link = "/tmp/so101", leader_link, motion = "sway";
  std::vector<std::string> faults;
  double seconds = 0;
};

struct Fault {
  std::string kind;
  uint8_t id = 0;
  double at = 0;
  bool leader = false;
  bool done = false;
};

Result<Fault> ParseFault(const std::string& text) {
  // KIND:ID[@SECONDS][:leader]
  Fault f;
  std::string rest = text;
  if (rest.size() > 7 && rest.substr(rest.size() - 7) == ":leader") {
    f.leader = true;
    rest = rest.substr(0, rest.size() - 7);
  }
  const size_t colon = rest.find(':');
  if (colon == std::string::npos) return InvalidArgument("--fault " + text + ": expected KIND:ID[@SECONDS]");
  f.kind = rest.substr(0, colon);
  std::string id = rest.substr(colon + 1);
  const size_t at = id.find('@');
  try {
    if (at != std::string::npos) {
      f.at = std::stod(id.substr(at + 1));
      id = id.substr(0, at);
    }
    f.id = static_cast<uint8_t>(std::stoi(id));
  } catch (const std::exception&) {
    return InvalidArgument("--fault " + text + ": bad servo id or time");
  }
  if (f.id < 1 || f.id > 6) return InvalidArgument("--fault " + text + ": servo id must be 1..6");
  static const char* kinds[] = {"silent", "corrupt", "drop", "voltage", "overload", "blocked"};
  if (std::find(std::begin(kinds), std::end(kinds), f.kind) == std::end(kinds))
    return InvalidArgument("--fault " + text + ": kind must be silent, corrupt, drop, voltage, overload or blocked");
  return f;
}

void ApplyFault(Fault& f, robot::ServoEmulator& e) {
  robot::EmulatedServo& s = e.servo(f.id);
  if (f.kind == "silent") s.silent = true;
  else if (f.kind == "corrupt") s.always_corrupt = true;
  else if (f.kind == "drop") s.drop_replies = 3;
  else if (f.kind == "voltage") s.error_bits |= robot::feetech::kErrVoltage;
  else if (f.kind == "overload") s.error_bits |= robot::feetech::kErrOverload;
  else if (f.kind == "blocked") s.blocked = true;
  f.done = true;
  std::printf("fault: %s on servo %d%s at %.1f s\n", f.kind.c_str(), f.id, f.leader ? " (leader)" : "", f.at);
  std::fflush(stdout);
}

std::unique_ptr<robot::PtyServoBus> MakeEmulatedArm(const EmulatorArgs& a, std::vector<Fault>* faults, bool leader) {
  robot::PtyBusOptions o;
  const bool sway = a.motion == "sway";
  o.on_tick = [sway, faults, leader](double t, robot::ServoEmulator& e) {
    for (Fault& f : *faults)
      if (!f.done && f.leader == leader && t >= f.at) ApplyFault(f, e);
    if (!sway) return;
    // The hand: joints whose torque is off sway through most of their range (leader arm moved by
    // a person, follower during calibration); wrist_roll turns less.
    for (uint8_t id : robot::kSo101Ids) {
      if (e.Get(id, "Torque_Enable")) continue;
      const double amp = id == 5 ? 400 : 700, f = 0.3 + 0.04 * id + (leader ? 0.01 : 0);
      e.SetShaft(id, 2048 + amp * std::sin(2 * M_PI * f * t + id));
    }
  };
  auto bus = std::make_unique<robot::PtyServoBus>(o);
  if (bus->ok())
    bus->With([](robot::ServoEmulator& e) {
      for (uint8_t id : robot::kSo101Ids) e.AddServo(id, 2048);
    });
  return bus;
}

int RunEmulator(const EmulatorArgs& a) {
  InstallStopHandler();
  if (a.motion != "sway" && a.motion != "none") return Fail(InvalidArgument("--motion: sway or none"));
  std::vector<Fault> faults;
  for (const std::string& s : a.faults) {
    auto f = ParseFault(s);
    if (!f.ok()) return Fail(f.status());
    faults.push_back(*f);
  }
  auto link = [](const std::string& path, const std::string& target) -> Status {
    std::error_code ec;
    if (std::filesystem::is_symlink(path, ec) || std::filesystem::exists(path, ec)) {
      if (!std::filesystem::is_symlink(path, ec))
        return InvalidArgument(path + " exists and is not a symlink: choose another --link");
      std::filesystem::remove(path, ec);
    }
    std::filesystem::create_symlink(target, path, ec);
    if (ec) return IoError("cannot create the link " + path + " -> " + target + ": " + ec.message());
    return Status::Ok();
  };
  auto follower = MakeEmulatedArm(a, &faults, false);
  if (!follower->ok()) return Fail(IoError("cannot create a pseudo-terminal: " + follower->error()));
  if (Status s = link(a.link, follower->slave_path()); !s.ok()) return Fail(s);
  std::unique_ptr<robot::PtyServoBus> leader;
  if (!a.leader_link.empty()) {
    leader = MakeEmulatedArm(a, &faults, true);
    if (!leader->ok()) return Fail(IoError("cannot create a pseudo-terminal: " + leader->error()));
    if (Status s = link(a.leader_link, leader->slave_path()); !s.ok()) return Fail(s);
  }
  std::printf("emulated SO-101 follower (6 x STS3215, 1000000 baud): %s -> %s\n", a.link.c_str(),
              follower->slave_path().c_str());
  if (leader)
    std::printf("emulated SO-101 leader: %s -> %s\n", a.leader_link.c_str(), leader->slave_path().c_str());
  std::printf("hand motion: %s; Ctrl-C stops\n", a.motion.c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  while (!StopRequested() &&
         (a.seconds <= 0 || std::chrono::steady_clock::now() - start < std::chrono::duration<double>(a.seconds)))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::error_code ec;
  std::filesystem::remove(a.link, ec);
  if (!a.leader_link.empty()) std::filesystem::remove(a.leader_link, ec);
  return 0;
}

}  // namespace

void RegisterRobotBench(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<BenchArgs>();
  auto* sub = app.add_subcommand(
      "robot-bench", "Control-loop jitter: 6 emulated servos on a pty, generated cameras, an asynchronous policy");
  sub->add_option("--hz", a->hz, "Control rates to measure, comma-separated");
  sub->add_option("--seconds", a->seconds, "Seconds per rate");
  sub->add_option("--policy", a->policy, "oracle (scripted, --oracle-latency ms per chunk) or an ACT/SmolVLA checkpoint");
  sub->add_option("--oracle-latency", a->oracle_latency_ms, "Oracle: simulated inference time per chunk (ms)");
  sub->add_option("--chunk", a->chunk, "Oracle: actions per chunk");
  sub->add_option("--cameras", a->cameras, "Oracle: generated cameras (a checkpoint brings its own)");
  sub->add_option("--camera-fps", a->camera_fps, "Generated cameras' frame rate");
  sub->add_option("--width", a->width, "Oracle cameras: width");
  sub->add_option("--height", a->height, "Oracle cameras: height");
  sub->add_option("--threads", a->threads, "Checkpoint policies: threads (0: all cores)");
  sub->add_flag("--json", a->json, "Machine-readable output");
  sub->callback([&run, a] { run = [a] { return RunRobotBench(*a); }; });
}

void RegisterRobotEmulator(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<EmulatorArgs>();
  auto* sub = app.add_subcommand("robot-emulator",
                                 "An emulated SO-101 (6 x STS3215) on a pseudo-terminal, for calibrate/teleop/run without hardware");
  sub->add_option("--link", a->link, "Symlink to the follower's pty (use it as --port)");
  sub->add_option("--leader-link", a->leader_link, "Also emulate a leader arm here (use it as --teleop-port)");
  sub->add_option("--motion", a->motion, "sway: joints with torque off move as if by hand; none: they stay");
  sub->add_option("--fault", a->faults,
                  "KIND:ID[@SECONDS][:leader], KIND = silent, corrupt, drop, voltage, overload, blocked (e.g. silent:3@5)");
  sub->add_option("--seconds", a->seconds, "Exit after this long (0: until Ctrl-C)");
  sub->callback([&run, a] { run = [a] { return RunEmulator(*a); }; });
}

}  // namespace embody::cli
