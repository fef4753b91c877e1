#include "runtime/act_policy.h"

#include <cstring>

namespace embody::runtime {

ActPolicy::ActPolicy(std::unique_ptr<models::act::ActModel> model) : model_(std::move(model)) {
  const auto& c = model_->config();
  normalized_.resize(static_cast<size_t>(c.chunk_size * c.action_dim()));
  queue_.resize(static_cast<size_t>(c.n_action_steps * c.action_dim()));
  if (c.temporal_ensemble_coeff)
    ensembler_ = std::make_unique<TemporalEnsembler>(*c.temporal_ensemble_coeff, c.chunk_size,
                                                     static_cast<int>(c.action_dim()));
}

void ActPolicy::Reset() {
  queue_head_ = queue_size_ = 0;
  if (ensembler_) ensembler_->Reset();
}

Status ActPolicy::SelectAction(const models::act::ActObservation& obs, float* action) {
  const auto& c = model_->config();
  const int64_t a_dim = c.action_dim();
  ran_model_ = false;
  if (ensembler_) {
    EMBODY_TRY(model_->Predict(obs, nullptr, normalized_.data()));
    ran_model_ = true;
    ensembler_->Update(normalized_.data(), action);
  } else {
    if (queue_size_ == 0) {
      EMBODY_TRY(model_->Predict(obs, nullptr, normalized_.data()));
      ran_model_ = true;
      std::memcpy(queue_.data(), normalized_.data(), queue_.size() * sizeof(float));
      queue_head_ = 0;
      queue_size_ = c.n_action_steps;
    }
    std::memcpy(action, &queue_[static_cast<size_t>(queue_head_ * a_dim)], static_cast<size_t>(a_dim) * sizeof(float));
    ++queue_head_;
    --queue_size_;
  }
  if (const auto* f = model_->normalizer().Find("action")) models::Normalizer::Unnormalize(*f, action, a_dim);
  return Status::Ok();
}

}  // namespace embody::runtime
