#include "train/sim_episodes.h"

#include <cstring>

#include "sim/clusters.h"
#include "sim/renderer.h"
#include "sim/rollout.h"

namespace embody::train {

Result<std::unique_ptr<MemorySource>> GenerateSimEpisodes(const SimEpisodeOptions& o, const SimProgress& progress) {
  if (o.episodes < 1) return InvalidArgument("sim episodes: --episodes must be >= 1");
  if (!o.cameras && !o.env_state)
    return InvalidArgument("sim episodes: without cameras the policy needs the environment state (--env-state)");
  if (o.cameras && (o.height < 32 || o.width < 32)) return InvalidArgument("sim episodes: image size must be at least 32x32 (ResNet)");
  sim::TaskOptions topt;
  if (o.cameras) {  // the largest image a renderer of the task may produce
    topt.height = o.height;
    topt.width = o.width;
  }
  EMBODY_ASSIGN_OR_RETURN(std::unique_ptr<sim::TeaBagTask> task, sim::TeaBagTask::Load(topt));
  std::unique_ptr<sim::Renderer> renderer;
  if (o.cameras) {
    EMBODY_ASSIGN_OR_RETURN(renderer, sim::Renderer::Create(*task, o.height, o.width));
  }
  std::vector<int> clusters;
  for (int c = 0; c < task->num_clusters(); ++c)
    if ((c == sim::kValidationCluster) == o.validation_cluster_only) clusters.push_back(c);

  TrainFeatures f;
  if (o.cameras) {
    for (std::string_view cam : sim::kCameraNames) f.cameras.push_back("observation.images." + std::string(cam));
    f.height = o.height;
    f.width = o.width;
  }
  f.state_dim = f.action_dim = sim::kNumJoints;
  f.env_state_dim = o.env_state ? sim::kEnvStateDim : 0;
  f.fps = task->options().control_hz;
  auto source = std::make_unique<MemorySource>(
      f, "sim-expert:" + std::to_string(o.episodes) + " episodes, " +
             (o.cameras ? std::to_string(o.height) + "x" + std::to_string(o.width) : std::string("no cameras")) +
             (o.env_state ? ", bag pose" : "") + ", seed " + std::to_string(o.seed));

  const size_t frame_bytes = static_cast<size_t>(o.height) * static_cast<size_t>(o.width) * 3;
  int kept = 0, run = 0;
  for (int i = 0; kept < o.episodes; ++i, ++run) {
    if (run >= o.episodes * std::max(o.max_attempts_factor, 1))
      return Internal("sim episodes: only " + std::to_string(kept) + " of " + std::to_string(run) +
                      " expert rollouts succeeded");
    const bool recovery = static_cast<int>((i + 1) * o.recovery_fraction + 1e-9) >
                          static_cast<int>(i * o.recovery_fraction + 1e-9);
    const sim::EpisodeSpec spec{o.seed + static_cast<uint64_t>(i), clusters[static_cast<size_t>(i) % clusters.size()],
                                recovery};
    MemoryEpisode e;
    e.task = o.task;
    auto sink = [&](const sim::Frame& frame) -> Status {
      for (int c = 0; c < (o.cameras ? sim::kNumCameras : 0); ++c) {
        const io::Image& img = frame.images[static_cast<size_t>(c)];
        if (img.pixels.size() != frame_bytes) return Internal("sim episodes: renderer returned a wrong-size image");
        e.images.insert(e.images.end(), img.pixels.begin(), img.pixels.end());
      }
      e.states.insert(e.states.end(), frame.state.begin(), frame.state.end());
      if (o.env_state) e.env_states.insert(e.env_states.end(), frame.env_state.begin(), frame.env_state.end());
      e.actions.insert(e.actions.end(), frame.action.begin(), frame.action.end());
      ++e.frames;
      return Status::Ok();
    };
    EMBODY_ASSIGN_OR_RETURN(sim::RolloutResult r, sim::RunExpertEpisode(*task, spec, renderer.get(), sink));
    if (progress) progress(kept + (r.success || !o.successful_only), run + 1);
    if (!r.success && o.successful_only) continue;
    EMBODY_TRY(source->Add(std::move(e)));
    ++kept;
  }
  return source;
}

}  // namespace embody::train
