// CameraObserver: the observation a checkpoint policy needs from the simulation: its cameras
// rendered at the checkpoint's image size, plus the joint state and the bag's pose
// (observation.environment_state, sim::EnvState) for policies trained on it.
//
// Cameras are matched by the feature name's last part (observation.images.top / gripper / left);
// other names (SmolVLA's camera1, camera2, ...) take the sim's cameras in order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/async/policy.h"
#include "sim/renderer.h"

namespace embody::runtime::simrun {

struct CameraSpec {
  std::string feature;  // e.g. observation.images.top
  int height = 0, width = 0;
};

class CameraObserver {
 public:
  static Result<std::unique_ptr<CameraObserver>> Create(const sim::TeaBagTask& task, const std::vector<CameraSpec>& cameras);

  // Renders every camera and points obs at the images, the state and the environment state
  // (valid until the next call).
  Status Observe(const sim::Episode& episode, PolicyObservation* obs);

 private:
  struct Slot {
    sim::Camera camera;
    sim::Renderer* renderer;
    io::Image image;
  };
  std::vector<std::unique_ptr<sim::Renderer>> renderers_;  // one per distinct size
  std::vector<Slot> slots_;
  sim::JointVector state_{};
  sim::EnvStateVector env_state_{};
};

}  // namespace embody::runtime::simrun
