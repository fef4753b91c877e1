#include "train_fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "io/image.h"

namespace embody::train::testing {

std::string FreshTempDir(const std::string& prefix, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

TrainFeatures TwoCameraFeatures(int height, int width) {
  TrainFeatures f;
  f.cameras = {"observation.images.top", "observation.images.gripper"};
  f.height = height;
  f.width = width;
  f.state_dim = 6;
  f.action_dim = 6;
  return f;
}

MemorySource SyntheticEpisodes(const TrainFeatures& f, const std::string& task) {
  MemorySource s(f, "synthetic");
  for (int e = 0; e < 3; ++e) {
    MemoryEpisode ep;
    ep.frames = 12 + 3 * e;
    ep.task = task;
    for (int t = 0; t < ep.frames; ++t) {
      for (size_t c = 0; c < f.cameras.size(); ++c)
        for (int i = 0; i < f.height * f.width * 3; ++i)
          ep.images.push_back(static_cast<uint8_t>((i * 7 + t * 13 + e * 31 + static_cast<int>(c) * 50) % 251));
      for (int j = 0; j < 6; ++j) {
        ep.states.push_back(static_cast<float>(10 * j + t + e));
        ep.actions.push_back(static_cast<float>(10 * j + t + e + 1.5 * std::sin(t + j)));
      }
      for (int j = 0; j < f.env_state_dim; ++j) ep.env_states.push_back(static_cast<float>(0.1 * j - 0.01 * t + e));
    }
    EXPECT_TRUE(s.Add(std::move(ep)).ok());
  }
  return s;
}

TrainOptions SmallRunOptions(const std::string& out, int64_t steps, int64_t save_every) {
  TrainOptions o;
  o.output = out;
  o.steps = steps;
  o.batch_size = 2;
  o.save_every = save_every;
  o.threads = 1;
  o.workers = 1;
  o.progress = false;
  return o;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<const uint8_t*> CameraImages(const TrainSample& s, const TrainFeatures& f) {
  const size_t frame = static_cast<size_t>(f.height) * static_cast<size_t>(f.width) * 3;
  std::vector<const uint8_t*> images;
  for (size_t c = 0; c < f.cameras.size(); ++c) images.push_back(s.images.data() + c * frame);
  return images;
}

std::string InferInputArgs(const TrainSample& s, const TrainFeatures& f, const std::string& dir) {
  const std::vector<const uint8_t*> images = CameraImages(s, f);
  const size_t frame = static_cast<size_t>(f.height) * static_cast<size_t>(f.width) * 3;
  std::string args;
  for (size_t c = 0; c < images.size(); ++c) {
    io::Image img;
    img.height = f.height;
    img.width = f.width;
    img.pixels.assign(images[c], images[c] + frame);
    const std::string png = dir + "/cam" + std::to_string(c) + ".png";
    EXPECT_TRUE(io::SavePng(png, img).ok()) << png;
    args += " --image " + f.cameras[c] + "=" + png;
  }
  args += " --state ";
  for (size_t j = 0; j < s.state.size(); ++j) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.9g", j ? "," : "", static_cast<double>(s.state[j]));
    args += buf;
  }
  if (!s.env_state.empty()) args += " --env-state ";
  for (size_t j = 0; j < s.env_state.size(); ++j) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.9g", j ? "," : "", static_cast<double>(s.env_state[j]));
    args += buf;
  }
  return args;
}

std::pair<int, std::string> RunCommand(const std::string& cmd, const std::string& stderr_to) {
  FILE* pipe = ::popen((cmd + (stderr_to.empty() ? " 2>&1" : " 2>" + stderr_to)).c_str(), "r");
  if (!pipe) return {-1, ""};
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  return {::pclose(pipe), text};
}

}  // namespace embody::train::testing
