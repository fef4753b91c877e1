// ACT's temporal ensembling (LeRobot's ACTTemporalEnsembler): every tick a new chunk arrives,
// and the action for each future timestep is a running weighted average of all chunks that
// predicted it, with weights w_i = exp(-coeff * i), w_0 for the oldest prediction.
//
// Works on whatever units it is given; LeRobot >= 0.4 ensembles normalized actions and
// un-normalizes after, which is equivalent because the weights sum to 1 and un-normalization is
// affine. Capacity is fixed at construction: Update() does not allocate.
#pragma once

#include <cstdint>
#include <vector>

namespace embody::runtime {

class TemporalEnsembler {
 public:
  TemporalEnsembler(double coeff, int chunk_size, int action_dim);

  // Folds in a new chunk [chunk_size, action_dim] and writes the action for the current tick
  // into out[action_dim].
  void Update(const float* chunk, float* out);
  void Reset() { size_ = 0; }

 private:
  int chunk_, dim_;
  std::vector<float> weights_, cumsum_;  // [chunk]
  std::vector<float> actions_;           // [chunk, dim], entries [0, size_) valid
  std::vector<int> counts_;              // [chunk]
  int size_ = 0;
};

}  // namespace embody::runtime
