#include "runtime/async/aggregate.h"

namespace embody::runtime {

namespace {
struct Entry {
  Aggregate a;
  std::string_view name;
  float old_w, new_w;
};
constexpr Entry kTable[] = {
    {Aggregate::kWeightedAverage, "weighted_average", 0.3f, 0.7f},
    {Aggregate::kLatestOnly, "latest_only", 0.0f, 1.0f},
    {Aggregate::kAverage, "average", 0.5f, 0.5f},
    {Aggregate::kConservative, "conservative", 0.7f, 0.3f},
};
const Entry& Find(Aggregate a) {
  for (const Entry& e : kTable)
    if (e.a == a) return e;
  return kTable[0];
}
}  // namespace

Result<Aggregate> ParseAggregate(std::string_view name) {
  for (const Entry& e : kTable)
    if (e.name == name) return e.a;
  return InvalidArgument("unknown aggregate function '" + std::string(name) +
                         "' (weighted_average, latest_only, average, conservative)");
}

std::string_view AggregateName(Aggregate a) { return Find(a).name; }
float OldWeight(Aggregate a) { return Find(a).old_w; }

void Combine(Aggregate a, const float* old_value, const float* new_value, int n, float* out) {
  const Entry& e = Find(a);
  if (e.a == Aggregate::kLatestOnly) {  // exact copy, as LeRobot's `lambda old, new: new`
    for (int i = 0; i < n; ++i) out[i] = new_value[i];
    return;
  }
  for (int i = 0; i < n; ++i) out[i] = e.old_w * old_value[i] + e.new_w * new_value[i];
}

}  // namespace embody::runtime
