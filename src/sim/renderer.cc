#include "sim/renderer.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>

#include <cstring>
#include <string>
#include <vector>

namespace embody::sim {

struct Renderer::Gl {
  EGLDisplay display = EGL_NO_DISPLAY;
  EGLContext context = EGL_NO_CONTEXT;
  mjvScene scene;
  mjvCamera camera;
  mjvOption option;
  mjrContext con;
  bool mj_ready = false;
  std::vector<uint8_t> flipped;  // bottom-up rows from OpenGL
};

namespace {
std::string EglError(const char* what) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), " (EGL error 0x%x)", eglGetError());
  return std::string(what) + buf;
}

// Mesa's surfaceless platform renders without a window system or GPU (llvmpipe); the default
// display is the fallback for drivers without it.
EGLDisplay OpenDisplay() {
  auto get_platform_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
  if (get_platform_display) {
    EGLDisplay d = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (d != EGL_NO_DISPLAY && eglInitialize(d, nullptr, nullptr)) return d;
  }
  EGLDisplay d = eglGetDisplay(EGL_DEFAULT_DISPLAY);
  if (d != EGL_NO_DISPLAY && eglInitialize(d, nullptr, nullptr)) return d;
  return EGL_NO_DISPLAY;
}
}  // namespace

Result<std::unique_ptr<Renderer>> Renderer::Create(const TeaBagTask& task, int height, int width) {
  const mjModel* m = task.model();
  if (height < 1 || width < 1 || height > m->vis.global.offheight || width > m->vis.global.offwidth)
    return InvalidArgument("render size " + std::to_string(height) + "x" + std::to_string(width) + " exceeds the task's " +
                           std::to_string(m->vis.global.offheight) + "x" + std::to_string(m->vis.global.offwidth));
  std::unique_ptr<Renderer> r(new Renderer());
  r->task_ = &task;
  r->height_ = height;
  r->width_ = width;
  r->gl_ = std::make_unique<Gl>();
  Gl& gl = *r->gl_;

  gl.display = OpenDisplay();
  if (gl.display == EGL_NO_DISPLAY) return Unimplemented(EglError("no EGL display (install libegl-mesa0)"));
  const EGLint config_attribs[] = {EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
                                   EGL_DEPTH_SIZE, 24, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                   EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_NONE};
  EGLConfig config;
  EGLint n = 0;
  if (!eglChooseConfig(gl.display, config_attribs, &config, 1, &n) || n < 1)
    return Unimplemented(EglError("no EGL config with OpenGL"));
  // MuJoCo's classic renderer needs a compatibility-profile OpenGL context
  if (!eglBindAPI(EGL_OPENGL_API)) return Unimplemented(EglError("eglBindAPI(OpenGL)"));
  gl.context = eglCreateContext(gl.display, config, EGL_NO_CONTEXT, nullptr);
  if (gl.context == EGL_NO_CONTEXT) return Unimplemented(EglError("eglCreateContext"));
  // no surface: MuJoCo renders into its own offscreen framebuffer
  if (!eglMakeCurrent(gl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, gl.context))
    return Unimplemented(EglError("eglMakeCurrent (surfaceless)"));

  mjv_defaultScene(&gl.scene);
  mjv_makeScene(m, &gl.scene, 2000);
  mjv_defaultCamera(&gl.camera);
  mjv_defaultOption(&gl.option);
  mjr_defaultContext(&gl.con);
  mjr_makeContext(m, &gl.con, mjFONTSCALE_100);
  gl.mj_ready = true;
  mjr_setBuffer(mjFB_OFFSCREEN, &gl.con);
  if (gl.con.currentBuffer != mjFB_OFFSCREEN) return Internal("MuJoCo offscreen buffer unavailable");
  gl.flipped.resize(static_cast<size_t>(height) * width * 3);
  return r;
}

Renderer::~Renderer() {
  if (!gl_) return;
  if (gl_->context != EGL_NO_CONTEXT) eglMakeCurrent(gl_->display, EGL_NO_SURFACE, EGL_NO_SURFACE, gl_->context);
  if (gl_->mj_ready) {
    mjr_freeContext(&gl_->con);
    mjv_freeScene(&gl_->scene);
  }
  if (gl_->context != EGL_NO_CONTEXT) {
    eglMakeCurrent(gl_->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext(gl_->display, gl_->context);
  }
  // the display is shared per process by EGL; terminating it would break other renderers
}

Status Renderer::Render(const Episode& episode, Camera camera, io::Image* out) {
  if (&episode.task() != task_) return InvalidArgument("episode belongs to another task");
  Gl& gl = *gl_;
  if (eglGetCurrentContext() != gl.context &&
      !eglMakeCurrent(gl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, gl.context))
    return Internal(EglError("eglMakeCurrent"));
  const mjModel* m = task_->model();
  gl.camera.type = mjCAMERA_FIXED;
  gl.camera.fixedcamid = task_->ids().camera[static_cast<int>(camera)];
  // mjv_updateScene takes mjData* but only reads it for a fixed camera and no perturbation
  mjv_updateScene(m, const_cast<mjData*>(episode.data()), &gl.option, nullptr, &gl.camera, mjCAT_ALL, &gl.scene);
  const mjrRect viewport{0, 0, width_, height_};
  mjr_render(viewport, &gl.scene, &gl.con);
  mjr_readPixels(gl.flipped.data(), nullptr, viewport, &gl.con);

  out->height = height_;
  out->width = width_;
  out->pixels.resize(gl.flipped.size());
  const size_t row = static_cast<size_t>(width_) * 3;
  for (int y = 0; y < height_; ++y)
    std::memcpy(out->pixels.data() + y * row, gl.flipped.data() + (height_ - 1 - y) * row, row);
  return Status::Ok();
}

}  // namespace embody::sim
