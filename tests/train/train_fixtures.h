// What the libtorch trainer tests of ACT and SmolVLA share: temporary folders, small synthetic
// episodes, run options for short runs, and running `embody infer` as another process. Not
// tests/support: that library links the runtime and with it oneDNN, which must stay out of a
// process that loads libtorch (src/cli/sibling.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "train/memory_source.h"
#include "train/train_options.h"

namespace embody::train::testing {

// An empty folder of this process under the system's temp dir: <temp>/<prefix>_<pid>/<name>.
std::string FreshTempDir(const std::string& prefix, const std::string& name);

// Two cameras (top, gripper) of height x width, state and action of 6.
TrainFeatures TwoCameraFeatures(int height, int width);

// Three smooth synthetic episodes (12, 15, 18 frames): images drift with t, actions follow the
// state; each carries `task`.
MemorySource SyntheticEpisodes(const TrainFeatures& f, const std::string& task = "");

// Batch 2, one libtorch thread, one loader worker, no progress bar.
TrainOptions SmallRunOptions(const std::string& out, int64_t steps, int64_t save_every);

std::string FileBytes(const std::string& path);

// Pointers to each camera's image of sample s (features f), in camera order.
std::vector<const uint8_t*> CameraImages(const TrainSample& s, const TrainFeatures& f);

// `embody infer`'s input arguments for sample s: " --image CAMERA=PNG" per camera (each image
// written as <dir>/cam<i>.png) and " --state a,b,..." with every digit a float needs.
std::string InferInputArgs(const TrainSample& s, const TrainFeatures& f, const std::string& dir);

// Runs a shell command; returns (exit status, stdout, and stderr too unless `stderr_to` names a
// file to send it to).
std::pair<int, std::string> RunCommand(const std::string& cmd, const std::string& stderr_to = "");

}  // namespace embody::train::testing
