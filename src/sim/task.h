// The tea-bag-in-mug task: the compiled MuJoCo model and everything fixed for all episodes.
//
// MuJoCo's split, kept: TeaBagTask holds the const mjModel (loaded once, shared by any number of
// episodes and renderers); sim::Episode holds the mutable mjData of one episode.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include <mujoco/mujoco.h>

#include "core/status.h"
#include "sim/clusters.h"
#include "sim/kinematics.h"

namespace embody::sim {

// LeRobot's SO-100/SO-101 motor names; observation.state and action are "<name>.pos" in this order.
inline constexpr std::array<std::string_view, 6> kJointNames = {
    "shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"};
inline constexpr int kNumJoints = 6;

// Camera order of observation.images.<name>.
enum class Camera : int { kTop = 0, kGripper = 1, kLeft = 2 };
inline constexpr std::array<std::string_view, 3> kCameraNames = {"top", "gripper", "left"};
inline constexpr int kNumCameras = 3;

struct TaskOptions {
  double control_hz = 30;        // policy / expert rate (LeRobot records at the camera fps)
  double max_physics_dt = 0.002; // physics step; shortened so that it divides the control period
  int height = 480, width = 640; // largest offscreen image a renderer of this task can produce
  double episode_seconds = 15;   // time limit of one episode
  std::vector<Cluster> clusters = DefaultClusters();
};

class TeaBagTask {
 public:
  static Result<std::unique_ptr<TeaBagTask>> Load(const TaskOptions& options = {});
  ~TeaBagTask();
  TeaBagTask(const TeaBagTask&) = delete;
  TeaBagTask& operator=(const TeaBagTask&) = delete;

  const mjModel* model() const { return model_; }
  const TaskOptions& options() const { return options_; }
  const ArmGeometry& geometry() const { return geometry_; }
  int substeps() const { return substeps_; }           // physics steps per control tick
  double control_dt() const { return 1.0 / options_.control_hz; }
  int num_clusters() const { return static_cast<int>(options_.clusters.size()); }

  // Model indices resolved once at load.
  struct Ids {
    std::array<int, kNumJoints> qpos{};      // qpos address of each named joint
    std::array<int, kNumJoints> actuator{};  // actuator of each named joint
    int bag_body = -1, bag_qpos = -1, bag_dof = -1;
    int mug_body = -1;
    std::array<int, kNumCameras> camera{};
  };
  const Ids& ids() const { return ids_; }

  // The mug: centre of its base on the table, inner radius and height of its rim (metres).
  double mug_x() const { return mug_x_; }
  double mug_y() const { return mug_y_; }
  static constexpr double kMugInnerRadius = 0.036, kMugHeight = 0.09;
  // Gripper joint travel (metres per finger) that LeRobot's 0..100 maps onto; 0 = closed.
  static constexpr double kGripperTravel = 0.042;

 private:
  TeaBagTask() = default;
  mjModel* model_ = nullptr;
  TaskOptions options_;
  ArmGeometry geometry_;
  Ids ids_;
  int substeps_ = 1;
  double mug_x_ = 0, mug_y_ = 0;
};

}  // namespace embody::sim
