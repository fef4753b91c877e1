// Conversions between libtorch tensors and embody's, and a module's state_dict as LeRobot names
// it: what every trainer needs to write and read model.safetensors and the training state.
// Internal to src/train: this header pulls in libtorch.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/status.h"
#include "core/tensor.h"
#include "train/checkpoint_io.h"

namespace embody::train {

// An owning float32 / uint8 / int64 copy (other dtypes are converted to float32).
Tensor ToEmbody(const torch::Tensor& t);
// An owning copy (float32, uint8 or int64).
torch::Tensor ToTorch(const Tensor& t);

// Every parameter and persistent buffer by its state_dict name.
std::vector<std::pair<std::string, torch::Tensor>> StateDict(torch::nn::Module& m);
NamedTensors StateDictCopy(torch::nn::Module& m);

// Copies every state_dict tensor from a model.safetensors (F32/F16/BF16), checking shapes; any
// missing key is an error naming the file, so a half-matching checkpoint never trains silently.
// Keys in `optional` (tensors a checkpoint may leave out, such as an unused lm_head) keep their
// current values when absent.
Status LoadStateDict(torch::nn::Module& m, const std::string& safetensors_path,
                     const std::set<std::string>& optional = {});

}  // namespace embody::train
