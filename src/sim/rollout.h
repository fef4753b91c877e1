// Runs the scripted expert through one episode, optionally rendering every tick.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "io/image.h"
#include "sim/episode.h"
#include "sim/expert.h"
#include "sim/renderer.h"

namespace embody::sim {

struct RolloutResult {
  EpisodeSpec spec;
  bool success = false;         // the bag rests inside the mug at the end
  double time_to_success = -1;  // seconds from Reset to the first tick it rested inside (< 0: never)
  double duration = 0;          // simulated seconds
  int ticks = 0;
  int attempts = 0;             // grasp attempts of the expert
  double start_distance = 0;    // grasp point to bag at Reset (metres)
};

// One frame: the tick, the observation and action of that tick (LeRobot units), and the images
// (observation.images.top / gripper / left) when a renderer is given.
struct Frame {
  int tick = 0;
  JointVector state{}, action{};
  EnvStateVector env_state{};  // the bag's pose (privileged; see EnvState)
  std::array<io::Image, kNumCameras> images;
};
using FrameSink = std::function<Status(const Frame&)>;

// Runs until the expert is done (plus half a second for the bag to settle) or the time limit.
// The sink sees every tick before its action is applied.
Result<RolloutResult> RunExpertEpisode(const TeaBagTask& task, const EpisodeSpec& spec, Renderer* renderer = nullptr,
                                       const FrameSink& sink = nullptr);

}  // namespace embody::sim
