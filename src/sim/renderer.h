// Headless offscreen rendering of the task's cameras: EGL (Mesa's surfaceless platform, so no
// display or GPU is needed) + MuJoCo's OpenGL renderer.
#pragma once

#include <memory>

#include "core/status.h"
#include "io/image.h"
#include "sim/episode.h"

namespace embody::sim {

class Renderer {
 public:
  // height x width must fit the task's offscreen buffer (TaskOptions height/width).
  static Result<std::unique_ptr<Renderer>> Create(const TeaBagTask& task, int height, int width);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // Renders one camera of the episode's current state into out (height x width x 3 RGB, rows
  // top to bottom; resized if needed). The episode is not modified.
  Status Render(const Episode& episode, Camera camera, io::Image* out);

  int height() const { return height_; }
  int width() const { return width_; }

 private:
  struct Gl;  // EGL + MuJoCo rendering state
  Renderer() = default;
  const TeaBagTask* task_ = nullptr;
  std::unique_ptr<Gl> gl_;
  int height_ = 0, width_ = 0;
};

}  // namespace embody::sim
