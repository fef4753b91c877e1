#include "cli/quant_info.h"

#include <cstdio>

#include "kernels/quant/cpu_features.h"
#include "models/common/quantized_store.h"

namespace embody::cli {

Result<io::Json> QuantizedSummary(const std::string& dir, const std::string& model_type, models::WeightTable& table) {
  EMBODY_ASSIGN_OR_RETURN(auto store, models::QuantizedStore::Open(dir, model_type));
  if (!store) return io::Json();
  table.SetSuperseded(store->superseded());
  io::Json ops = io::Json::object();
  for (const auto& [id, op] : store->ops()) {
    io::Json& n = ops[op.block][kernels::WeightFormatName(op.format)];
    n = (n.is_null() ? 0 : n.get<int>()) + 1;
  }
  EMBODY_ASSIGN_OR_RETURN(io::Json meta, io::ReadJsonFile(dir + "/" + models::kQuantMetadataFile));
  return io::Json{{"plan", store->plan_text()},
                  {"static_activations", store->static_activations()},
                  {"packed_ops", ops},
                  {"superseded_tensors", store->superseded().size()},
                  {"source", meta.value("source", io::Json())},
                  {"kernels", kernels::QuantKernelSummary()}};
}

void PrintQuantizedSummary(const io::Json& q) {
  if (q.is_null()) return;
  std::printf("\nquantized    plan %s%s\n", q["plan"].get<std::string>().c_str(),
              q["static_activations"].get<bool>() ? ", static activation scales" : ", dynamic activation scales");
  for (const auto& [block, formats] : q["packed_ops"].items()) {
    std::printf("  %-12s", block.c_str());
    for (const auto& [f, n] : formats.items()) std::printf(" %d %s op(s)", n.get<int>(), f.c_str());
    std::printf("\n");
  }
  if (q["source"].is_object())
    std::printf("  source %s (hash %s)\n", q["source"].value("path", "?").c_str(), q["source"].value("model_hash", "?").c_str());
  std::printf("  kernels: %s\n", q["kernels"].get<std::string>().c_str());
}

}  // namespace embody::cli
