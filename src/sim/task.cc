#include "sim/task.h"

#include <cmath>
#include <string>

#include "sim/scene_xml.h"

namespace embody::sim {

namespace {
Result<int> Id(const mjModel* m, mjtObj type, std::string_view name) {
  const int id = mj_name2id(m, type, std::string(name).c_str());
  if (id < 0) return Internal("scene has no " + std::string(mju_type2Str(type)) + " '" + std::string(name) + "'");
  return id;
}
}  // namespace

TeaBagTask::~TeaBagTask() { mj_deleteModel(model_); }

Result<std::unique_ptr<TeaBagTask>> TeaBagTask::Load(const TaskOptions& options) {
  if (!(options.control_hz > 0 && options.control_hz <= 1000)) return InvalidArgument("control_hz must be in (0, 1000]");
  if (!(options.max_physics_dt > 0)) return InvalidArgument("max_physics_dt must be positive");
  if (options.height < 8 || options.width < 8 || options.height > 4096 || options.width > 4096)
    return InvalidArgument("image size must be within 8..4096");
  if (options.clusters.empty()) return InvalidArgument("no clusters");

  // MuJoCo reads the scene from a virtual file so that error messages name it.
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  const char* xml = TeaBagSceneXml();
  mj_addBufferVFS(&vfs, "tea_bag_task.xml", xml, static_cast<int>(std::char_traits<char>::length(xml)));
  char error[1024] = "";
  mjModel* m = mj_loadXML("tea_bag_task.xml", &vfs, error, sizeof(error));
  mj_deleteVFS(&vfs);
  if (!m) return Internal(std::string("MuJoCo rejected the scene: ") + error);

  std::unique_ptr<TeaBagTask> task(new TeaBagTask());
  task->model_ = m;
  task->options_ = options;

  // Edits before the model becomes const: a physics step that divides the control period
  // exactly, so control ticks fall on physics steps and replay is exact.
  const double period = 1.0 / options.control_hz;
  task->substeps_ = static_cast<int>(std::ceil(period / options.max_physics_dt - 1e-9));
  m->opt.timestep = period / task->substeps_;
  m->vis.global.offwidth = options.width;
  m->vis.global.offheight = options.height;

  Ids& ids = task->ids_;
  for (int i = 0; i < kNumJoints; ++i) {
    EMBODY_ASSIGN_OR_RETURN(const int j, Id(m, mjOBJ_JOINT, kJointNames[i]));
    ids.qpos[i] = m->jnt_qposadr[j];
    EMBODY_ASSIGN_OR_RETURN(ids.actuator[i], Id(m, mjOBJ_ACTUATOR, kJointNames[i]));
  }
  EMBODY_ASSIGN_OR_RETURN(ids.bag_body, Id(m, mjOBJ_BODY, "tea_bag"));
  EMBODY_ASSIGN_OR_RETURN(const int bag_joint, Id(m, mjOBJ_JOINT, "tea_bag"));
  ids.bag_qpos = m->jnt_qposadr[bag_joint];
  ids.bag_dof = m->jnt_dofadr[bag_joint];
  EMBODY_ASSIGN_OR_RETURN(ids.mug_body, Id(m, mjOBJ_BODY, "mug"));
  for (int i = 0; i < kNumCameras; ++i) {
    EMBODY_ASSIGN_OR_RETURN(ids.camera[i], Id(m, mjOBJ_CAMERA, kCameraNames[i]));
  }
  // the mug is a static body: its pose is in the model
  task->mug_x_ = m->body_pos[3 * ids.mug_body];
  task->mug_y_ = m->body_pos[3 * ids.mug_body + 1];
  return task;
}

}  // namespace embody::sim
