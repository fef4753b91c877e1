#include "sim/episode.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/rng.h"

namespace embody::sim {

namespace {
constexpr double kBagHalfThickness = 0.004;
constexpr double kRestSpeed = 0.03;  // m/s: slower than this counts as "at rest"
}  // namespace

Episode::Episode(const TeaBagTask& task) : task_(task), data_(mj_makeData(task.model())) {}
Episode::~Episode() { mj_deleteData(data_); }

double Episode::ToJoint(int joint, float value) {
  if (joint == kNumJoints - 1) return static_cast<double>(value) / 100.0 * TeaBagTask::kGripperTravel;
  return static_cast<double>(value) * M_PI / 180.0;
}

float Episode::FromJoint(int joint, double q) {
  if (joint == kNumJoints - 1) return static_cast<float>(q / TeaBagTask::kGripperTravel * 100.0);
  return static_cast<float>(q * 180.0 / M_PI);
}

void Episode::SetArm(const ArmJoints& q, double gripper_q) {
  const mjModel* m = task_.model();
  const auto& ids = task_.ids();
  for (int i = 0; i < 5; ++i) data_->qpos[ids.qpos[i]] = q[i];
  data_->qpos[ids.qpos[5]] = gripper_q;
  // the mirrored finger follows the gripper through an equality; start it satisfied
  data_->qpos[m->jnt_qposadr[mj_name2id(m, mjOBJ_JOINT, "gripper_mirror")]] = gripper_q;
  for (int i = 0; i < kNumJoints; ++i) {
    action_[i] = FromJoint(i, i < 5 ? q[i] : gripper_q);
    data_->ctrl[ids.actuator[i]] = i < 5 ? q[i] : gripper_q;
  }
}

Status Episode::Reset(const EpisodeSpec& spec) {
  if (spec.cluster < 0 || spec.cluster >= task_.num_clusters())
    return OutOfRange("cluster " + std::to_string(spec.cluster) + " not in [0, " + std::to_string(task_.num_clusters()) + ")");
  const mjModel* m = task_.model();
  const auto& ids = task_.ids();
  mj_resetData(m, data_);
  spec_ = spec;
  tick_ = 0;
  time_to_success_ = -1;
  success_since_ = -1;
  Rng rng(spec.seed);

  // the bag: uniform in the cluster, any yaw, lying flat
  const Cluster& c = task_.options().clusters[spec.cluster];
  double bx, by;
  const double u = rng.Uniform(), v = rng.Uniform();
  ClusterPoint(c, u, v, &bx, &by);
  const double yaw = rng.Uniform(-M_PI, M_PI);
  double* bag = data_->qpos + ids.bag_qpos;
  bag[0] = bx, bag[1] = by, bag[2] = kBagHalfThickness + 0.0002;
  bag[3] = std::cos(yaw / 2), bag[4] = 0, bag[5] = 0, bag[6] = std::sin(yaw / 2);

  // the arm: a rest pose above the table, or for recovery a pose away from the bag
  HandPose start{0.12, 0.0, 0.17, 0.5, 0.0};  // the expert's rest pose
  double gripper = 0.5 * TeaBagTask::kGripperTravel;
  if (spec.recovery) {
    gripper = 0.0;  // closed on nothing, as after a missed grasp or a release
    if (rng.Uniform() < 0.5) {
      // near the mug, as if it had just released
      start = {task_.mug_x() + rng.Uniform(-0.02, 0.02), task_.mug_y() + rng.Uniform(-0.02, 0.02),
               rng.Uniform(0.15, 0.19), rng.Uniform(-1.1, -0.6), rng.Uniform(-M_PI, M_PI)};
    } else {
      // beside the bag, low, as after a grasp that closed on the table
      const double a = rng.Uniform(-M_PI, M_PI), d = rng.Uniform(0.06, 0.09);
      start = {bx + d * std::cos(a), by + d * std::sin(a), rng.Uniform(0.02, 0.06), 0.0, rng.Uniform(-M_PI, M_PI)};
    }
  }
  ArmJoints q;
  if (!SolveIk(task_.geometry(), start, &q)) {
    // a start outside the reach (custom layouts): fall back to the rest pose
    const bool ok = SolveIk(task_.geometry(), HandPose{0.12, 0.0, 0.17, 0.5, 0.0}, &q);
    if (!ok) return Internal("rest pose out of reach");
  }
  SetArm(q, gripper);
  mj_forward(m, data_);
  return Status::Ok();
}

Status Episode::Step(const JointVector& action) {
  const mjModel* m = task_.model();
  const auto& ids = task_.ids();
  for (int i = 0; i < kNumJoints; ++i) {
    if (!std::isfinite(action[i])) return InvalidArgument("action[" + std::to_string(i) + "] is not finite");
    const int a = ids.actuator[i];
    const double lo = m->actuator_ctrlrange[2 * a], hi = m->actuator_ctrlrange[2 * a + 1];
    data_->ctrl[a] = std::clamp(ToJoint(i, action[i]), lo, hi);
    action_[i] = action[i];
  }
  for (int s = 0; s < task_.substeps(); ++s) mj_step(m, data_);
  ++tick_;
  // MuJoCo flags divergence in warnings instead of failing the step
  if (data_->warning[mjWARN_BADQACC].number > 0) return Internal("physics diverged at t=" + std::to_string(time()));
  if (bag_in_mug()) {
    if (success_since_ < 0) success_since_ = time();
    if (time_to_success_ < 0) time_to_success_ = time();
  } else {
    success_since_ = -1;
  }
  return Status::Ok();
}

JointVector Episode::state() const {
  JointVector s;
  for (int i = 0; i < kNumJoints; ++i) s[i] = FromJoint(i, data_->qpos[task_.ids().qpos[i]]);
  return s;
}

double Episode::time() const { return tick_ * task_.control_dt(); }

BagPose Episode::bag() const {
  const double* p = data_->xpos + 3 * task_.ids().bag_body;
  const double* r = data_->xmat + 9 * task_.ids().bag_body;
  // yaw of the bag's local x axis (its 5 cm side), projected on the table
  return {p[0], p[1], p[2], std::atan2(r[3], r[0])};
}

EnvStateVector EnvState(const BagPose& b) {
  return {static_cast<float>(b.x), static_cast<float>(b.y), static_cast<float>(b.z),
          static_cast<float>(std::cos(b.yaw)), static_cast<float>(std::sin(b.yaw))};
}

bool Episode::bag_in_mug() const {
  const BagPose b = bag();
  const double dr = std::hypot(b.x - task_.mug_x(), b.y - task_.mug_y());
  const double* v = data_->qvel + task_.ids().bag_dof;  // free joint: world linear velocity first
  const double speed = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return dr < TeaBagTask::kMugInnerRadius && b.z < TeaBagTask::kMugHeight && speed < kRestSpeed;
}

double Episode::success_held() const { return success_since_ < 0 ? 0.0 : time() - success_since_; }

}  // namespace embody::sim
