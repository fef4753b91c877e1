// torch.optim.AdamW's single-tensor update, written out so its state is ours to save and load in
// LeRobot's optimizer_state.safetensors / optimizer_param_groups.json layout. Parameters whose
// gradient is undefined after backward (frozen, or unused by the loss) are skipped, moments and
// weight decay included, as torch does. Internal to src/train: this header pulls in libtorch.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/status.h"
#include "train/checkpoint_io.h"

namespace embody::train {

struct AdamWHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

class AdamW {
 public:
  struct Group {
    std::vector<std::string> names;
    std::vector<torch::Tensor> params;
    double lr = 1e-5, weight_decay = 1e-4;  // lr: the base rate (a scheduler scales it)
  };

  AdamW(std::vector<Group> groups, AdamWHyper hyper = {});

  // A learning-rate scheduler's factor for the next Step() (LambdaLR: lr = base * factor).
  void SetLrScale(double scale) { lr_scale_ = scale; }
  double lr(size_t group) const { return groups_[group].lr * lr_scale_; }
  const AdamWHyper& hyper() const { return hyper_; }

  void Step();
  void ZeroGrad();
  std::vector<torch::Tensor> AllParams() const;

  // Appends "state.<i>.{exp_avg,exp_avg_sq,step}" and the param groups (with "param_names").
  void Save(TrainingState* ts) const;
  // Errors (DataLoss, naming `where`) when the groups name other parameters or shapes differ.
  Status Load(const TrainingState& ts, const std::string& where);

 private:
  struct State {
    torch::Tensor exp_avg, exp_avg_sq;
    int64_t step = 0;
  };
  std::vector<Group> groups_;
  AdamWHyper hyper_;
  std::vector<State> state_;
  double lr_scale_ = 1;
};

}  // namespace embody::train
