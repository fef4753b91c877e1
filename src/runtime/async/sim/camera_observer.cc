#include "runtime/async/sim/camera_observer.h"

namespace embody::runtime::simrun {

Result<std::unique_ptr<CameraObserver>> CameraObserver::Create(const sim::TeaBagTask& task,
                                                               const std::vector<CameraSpec>& cameras) {
  auto o = std::unique_ptr<CameraObserver>(new CameraObserver());
  for (size_t i = 0; i < cameras.size(); ++i) {
    const CameraSpec& c = cameras[i];
    const std::string short_name = c.feature.substr(c.feature.rfind('.') + 1);
    int index = static_cast<int>(i % sim::kNumCameras);
    for (int k = 0; k < sim::kNumCameras; ++k)
      if (sim::kCameraNames[k] == short_name) index = k;
    sim::Renderer* renderer = nullptr;
    for (auto& r : o->renderers_)
      if (r->height() == c.height && r->width() == c.width) renderer = r.get();
    if (!renderer) {
      EMBODY_ASSIGN_OR_RETURN(auto r, sim::Renderer::Create(task, c.height, c.width));
      o->renderers_.push_back(std::move(r));
      renderer = o->renderers_.back().get();
    }
    o->slots_.push_back({static_cast<sim::Camera>(index), renderer, {}});
  }
  return o;
}

Status CameraObserver::Observe(const sim::Episode& episode, PolicyObservation* obs) {
  obs->images.clear();
  for (Slot& s : slots_) {
    EMBODY_TRY(s.renderer->Render(episode, s.camera, &s.image));
    obs->images.push_back({s.image.pixels.data(), s.image.height, s.image.width});
  }
  state_ = episode.state();
  obs->state = state_.data();
  env_state_ = episode.env_state();
  obs->env_state = env_state_.data();
  return Status::Ok();
}

}  // namespace embody::runtime::simrun
