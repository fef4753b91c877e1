// Rebuilds a golden case's checkpoint folder: copies LeRobot's own JSON and stats files from
// testdata/golden/<policy>/<case>/ and re-materializes model.safetensors from manifest.json with
// the seeded rule, checking every tensor's fnv1a64 against the one LeRobot's side recorded.
#pragma once

#include <string>

#include "core/status.h"
#include "io/json_file.h"

namespace embody::testing {

std::string TestdataDir();
// ../shared/data beside the repository (the SmolVLM2 tokenizer).
std::string SharedDataDir();
// A fresh empty folder under the build tree's temp area.
std::string FreshTempDir(const std::string& name);
// Returns the checkpoint folder; fails if any tensor's bytes differ from the manifest.
Result<std::string> MaterializeGoldenCase(const std::string& policy, const std::string& name);

}  // namespace embody::testing
