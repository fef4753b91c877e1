#include "data/sim_recording.h"

#include "core/timer.h"
#include "sim/rollout.h"

namespace embody::data {

DatasetSpec SimDatasetSpec(const sim::TeaBagTask& task, int height, int width) {
  DatasetSpec spec;
  spec.fps = static_cast<int>(task.options().control_hz + 0.5);
  // LeRobot's robot_type is the robot's name; "sim" marks datasets without a real arm (no
  // calibration files expected by `embody dataset check`).
  spec.robot_type = "so101_follower_sim";
  for (std::string_view j : sim::kJointNames) spec.state_names.push_back(std::string(j) + ".pos");
  spec.action_names = spec.state_names;
  for (std::string_view c : sim::kCameraNames) spec.cameras.push_back({std::string(c), height, width});
  return spec;
}

bool SimIsRecovery(int i, double share) {
  return static_cast<int>((i + 1) * share + 1e-9) > static_cast<int>(i * share + 1e-9);
}

Status RecordSimEpisodes(const sim::TeaBagTask& task, sim::Renderer* renderer, DatasetWriter* writer,
                         const SimRecordOptions& o, const std::function<void(int, int)>& progress,
                         SimRecordStats* st) {
  if (o.clusters <= 0 || o.clusters > task.num_clusters())
    return InvalidArgument("--clusters " + std::to_string(o.clusters) + ": the task's layout has " +
                           std::to_string(task.num_clusters()) + " clusters");
  if (o.val_cluster >= o.clusters) return InvalidArgument("--val-cluster " + std::to_string(o.val_cluster) +
                                                          " is not among clusters 0.." + std::to_string(o.clusters - 1));
  if (!renderer) return InvalidArgument("sim recording needs a renderer");
  Stopwatch total;
  const int first = static_cast<int>(writer->num_episodes());
  for (int i = first; i < o.episodes; ++i) {
    const int cluster = i % o.clusters;
    const sim::EpisodeSpec spec{o.seed + static_cast<uint64_t>(i), cluster, SimIsRecovery(i, o.recovery)};
    EpisodeMeta meta;
    meta.task = o.task;
    meta.cluster = cluster;
    meta.recovery = spec.recovery;
    meta.split = cluster == o.val_cluster ? "val" : "train";
    EMBODY_TRY(writer->BeginEpisode(meta));
    Stopwatch ep_watch;
    double add_ms = 0;
    auto sink = [&](const sim::Frame& f) -> Status {
      FrameInput in;
      in.state = f.state.data();
      in.action = f.action.data();
      for (const io::Image& img : f.images) in.images.push_back(img.pixels.data());
      Stopwatch sw;
      Status s = writer->AddFrame(in);
      add_ms += sw.ElapsedMs();
      return s;
    };
    auto r = sim::RunExpertEpisode(task, spec, renderer, sink);
    if (!r.ok()) {
      writer->DiscardEpisode();
      return r.status().WithContext("episode " + std::to_string(i));
    }
    st->render_s += (ep_watch.ElapsedMs() - add_ms) / 1000.0;
    st->add_frame_s += add_ms / 1000.0;
    // the success flag is known only at the end; EndEpisode stores the meta given at Begin, so
    // set it through the writer's open episode
    writer->SetEpisodeSuccess(r->success ? 1 : 0);
    Stopwatch commit;
    EMBODY_ASSIGN_OR_RETURN(EpisodeSummary sum, writer->EndEpisode());
    st->commit_s += commit.ElapsedMs() / 1000.0;
    st->episodes += 1;
    st->successes += r->success;
    st->recovery_episodes += spec.recovery;
    st->frames += sum.frames;
    if (progress) progress(i + 1, o.episodes);
  }
  st->wall_s = total.ElapsedMs() / 1000.0;
  return Status::Ok();
}

}  // namespace embody::data
