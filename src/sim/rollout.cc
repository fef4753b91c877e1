#include "sim/rollout.h"

#include <cmath>

namespace embody::sim {

Result<RolloutResult> RunExpertEpisode(const TeaBagTask& task, const EpisodeSpec& spec, Renderer* renderer,
                                       const FrameSink& sink) {
  Episode episode(task);
  EMBODY_TRY(episode.Reset(spec));
  Expert expert(task);
  expert.Reset();
  RolloutResult r;
  r.spec = spec;
  {
    const HandPose hand = ForwardKinematics(task.geometry(), [&] {
      ArmJoints q;
      for (int i = 0; i < 5; ++i) q[i] = Episode::ToJoint(i, episode.state()[i]);
      return q;
    }());
    const BagPose bag = episode.bag();
    r.start_distance = std::sqrt((hand.x - bag.x) * (hand.x - bag.x) + (hand.y - bag.y) * (hand.y - bag.y) +
                                 (hand.z - bag.z) * (hand.z - bag.z));
  }
  const int settle_ticks = static_cast<int>(std::ceil(0.5 * task.options().control_hz));
  int after_done = 0;
  Frame frame;
  while (!episode.timed_out() && after_done < settle_ticks) {
    const JointVector action = expert.Act(episode);
    if (sink) {
      frame.tick = episode.tick();
      frame.state = episode.state();
      frame.env_state = episode.env_state();
      frame.action = action;
      if (renderer)
        for (int c = 0; c < kNumCameras; ++c) EMBODY_TRY(renderer->Render(episode, static_cast<Camera>(c), &frame.images[c]));
      EMBODY_TRY(sink(frame));
    }
    EMBODY_TRY(episode.Step(action));
    if (expert.finished()) ++after_done;
  }
  r.success = episode.bag_in_mug();
  r.time_to_success = r.success ? episode.time_to_success() : -1;
  r.duration = episode.time();
  r.ticks = episode.tick();
  r.attempts = expert.attempts();
  return r;
}

}  // namespace embody::sim
