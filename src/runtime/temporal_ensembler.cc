// Compiled with -ffp-contract=off to round like the float32 torch ops it mirrors.
#include "runtime/temporal_ensembler.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace embody::runtime {

TemporalEnsembler::TemporalEnsembler(double coeff, int chunk_size, int action_dim)
    : chunk_(chunk_size),
      dim_(action_dim),
      weights_(static_cast<size_t>(chunk_size)),
      cumsum_(static_cast<size_t>(chunk_size)),
      actions_(static_cast<size_t>(chunk_size) * static_cast<size_t>(action_dim)),
      counts_(static_cast<size_t>(chunk_size)) {
  float sum = 0.0f;
  for (int i = 0; i < chunk_size; ++i) {
    // torch.exp(-coeff * torch.arange(chunk)) in float32, then cumsum in float32.
    weights_[static_cast<size_t>(i)] = std::exp(static_cast<float>(-coeff) * static_cast<float>(i));
    sum += weights_[static_cast<size_t>(i)];
    cumsum_[static_cast<size_t>(i)] = sum;
  }
}

void TemporalEnsembler::Update(const float* chunk, float* out) {
  if (size_ == 0) {
    std::memcpy(actions_.data(), chunk, actions_.size() * sizeof(float));
    std::fill(counts_.begin(), counts_.end(), 1);
    size_ = chunk_;
  } else {
    // size_ == chunk_ - 1 here: every stored timestep gets the new chunk's prediction.
    for (int t = 0; t < size_; ++t) {
      const int c = counts_[static_cast<size_t>(t)];
      const float w_old = cumsum_[static_cast<size_t>(c - 1)];
      const float w_new = weights_[static_cast<size_t>(c)];
      const float w_all = cumsum_[static_cast<size_t>(c)];
      for (int j = 0; j < dim_; ++j) {
        float& e = actions_[static_cast<size_t>(t * dim_ + j)];
        e = e * w_old;
        e = e + chunk[t * dim_ + j] * w_new;
        e = e / w_all;
      }
      counts_[static_cast<size_t>(t)] = std::min(c + 1, chunk_);
    }
    std::memcpy(&actions_[static_cast<size_t>(size_ * dim_)], chunk + (chunk_ - 1) * dim_,
                static_cast<size_t>(dim_) * sizeof(float));
    counts_[static_cast<size_t>(size_)] = 1;
    size_ = chunk_;
  }
  // Pop the first timestep.
  std::memcpy(out, actions_.data(), static_cast<size_t>(dim_) * sizeof(float));
  std::memmove(actions_.data(), actions_.data() + dim_, static_cast<size_t>((size_ - 1) * dim_) * sizeof(float));
  std::memmove(counts_.data(), counts_.data() + 1, static_cast<size_t>(size_ - 1) * sizeof(int));
  --size_;
}

}  // namespace embody::runtime
