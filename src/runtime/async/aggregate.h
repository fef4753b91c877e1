// LeRobot's aggregate functions for two predictions of the same timestep
// (lerobot/async_inference/configs.py, AGGREGATE_FUNCTIONS, checked against LeRobot 0.4.4):
//   weighted_average  0.3 * old + 0.7 * new   (LeRobot's default)
//   latest_only       new
//   average           0.5 * old + 0.5 * new
//   conservative      0.7 * old + 0.3 * new
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace embody::runtime {

enum class Aggregate { kWeightedAverage, kLatestOnly, kAverage, kConservative };

Result<Aggregate> ParseAggregate(std::string_view name);
std::string_view AggregateName(Aggregate a);

// Weight of the old (already queued) value.
float OldWeight(Aggregate a);

// out[i] = OldWeight * old[i] + (1 - OldWeight) * new[i], with LeRobot's constants written as
// its lambdas do (0.3 * old + 0.7 * new, not 0.3 * old + (1 - 0.3) * new).
void Combine(Aggregate a, const float* old_value, const float* new_value, int n, float* out);

}  // namespace embody::runtime
