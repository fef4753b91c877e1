// ActPolicy: LeRobot's ACTPolicy.select_action semantics on top of an ActModel.
//   * Without ensembling: a queue of n_action_steps actions; the model runs when it is empty.
//   * With temporal_ensemble_coeff: the model runs every tick and chunks are ensembled.
// Actions come out in robot units. Not thread-safe (one robot loop per policy).
#pragma once

#include <memory>
#include <vector>

#include "models/act/act_model.h"
#include "runtime/temporal_ensembler.h"

namespace embody::runtime {

class ActPolicy {
 public:
  explicit ActPolicy(std::unique_ptr<models::act::ActModel> model);

  // Writes the next action [action_dim] (robot units) into `action`.
  Status SelectAction(const models::act::ActObservation& obs, float* action);
  // Clears the queue / ensemble (episode start).
  void Reset();

  models::act::ActModel& model() { return *model_; }
  // True if the last SelectAction ran the network.
  bool last_ran_model() const { return ran_model_; }
  // Normalized actions of the last forward pass [chunk_size, action_dim].
  const std::vector<float>& last_chunk_normalized() const { return normalized_; }

 private:
  std::unique_ptr<models::act::ActModel> model_;
  std::unique_ptr<TemporalEnsembler> ensembler_;
  std::vector<float> normalized_;
  std::vector<float> queue_;  // [n_action_steps, action_dim], normalized
  int queue_head_ = 0, queue_size_ = 0;
  bool ran_model_ = false;
};

}  // namespace embody::runtime
