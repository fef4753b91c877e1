// Helpers for the data tests: a per-process temporary directory and synthetic frames.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/writer.h"

namespace embody::data::testing {

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    static int n = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("embody_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path(const std::string& sub = "") const { return (path_ / sub).string(); }

 private:
  std::filesystem::path path_;
};

// A frame whose colour encodes (episode, frame, camera): flat colour, so that video
// compression keeps it within a few levels.
inline std::vector<uint8_t> SyntheticImage(int h, int w, int episode, int frame, int camera) {
  std::vector<uint8_t> img(static_cast<size_t>(h) * w * 3);
  for (int i = 0; i < h * w; ++i) {
    img[static_cast<size_t>(i) * 3 + 0] = static_cast<uint8_t>((frame * 7) % 200 + 20);
    img[static_cast<size_t>(i) * 3 + 1] = static_cast<uint8_t>((episode * 40) % 200 + 20);
    img[static_cast<size_t>(i) * 3 + 2] = static_cast<uint8_t>(camera * 60 + 40);
  }
  return img;
}

inline float StateValue(int episode, int frame, int j) { return episode * 100.0f + frame + 0.1f * j; }
inline float ActionValue(int episode, int frame, int j) { return -(episode * 100.0f + frame) - 0.1f * j; }

inline DatasetSpec SmallSpec(int cameras = 2) {
  DatasetSpec spec;
  spec.fps = 30;
  spec.robot_type = "sim_so101";
  spec.state_names = spec.action_names = {"a.pos", "b.pos", "c.pos"};
  const char* names[] = {"top", "gripper", "left"};
  for (int c = 0; c < cameras; ++c) spec.cameras.push_back({names[c], 64, 96});
  return spec;
}

// Records `frames` frames of one episode.
inline void RecordEpisode(DatasetWriter* w, int episode, int frames, const EpisodeMeta& meta = {}) {
  ASSERT_TRUE(w->BeginEpisode(meta).ok());
  const int cams = static_cast<int>(w->info().video_keys().size());
  for (int f = 0; f < frames; ++f) {
    float st[3], ac[3];
    for (int j = 0; j < 3; ++j) st[j] = StateValue(episode, f, j), ac[j] = ActionValue(episode, f, j);
    std::vector<std::vector<uint8_t>> imgs;
    FrameInput in;
    in.state = st;
    in.action = ac;
    for (int c = 0; c < cams; ++c) imgs.push_back(SyntheticImage(64, 96, episode, f, c));
    for (auto& i : imgs) in.images.push_back(i.data());
    ASSERT_TRUE(w->AddFrame(in).ok());
  }
  auto r = w->EndEpisode();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

}  // namespace embody::data::testing
