// `embody info` on a quantized checkpoint: the plan it carries and its packed ops.
#pragma once

#include <string>

#include "core/status.h"
#include "io/json_file.h"
#include "models/common/weight_table.h"

namespace embody::cli {

// If `dir` is a quantized checkpoint: lets `table` accept the tensors its packed ops replace and
// returns a JSON summary ({"plan", "static_activations", "ops": {block: {format: n}}, "source"});
// otherwise returns null JSON. Errors: a corrupt or foreign embody_quant.json.
Result<io::Json> QuantizedSummary(const std::string& dir, const std::string& model_type, models::WeightTable& table);
void PrintQuantizedSummary(const io::Json& summary);

}  // namespace embody::cli
