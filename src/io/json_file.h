// JSON files with errors that name the file and the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace embody::io {

// Key order is preserved: LeRobot's camera order is the key order of input_features.
using Json = nlohmann::ordered_json;

Result<Json> ReadJsonFile(const std::string& path);
// Atomic (tmp + rename) write, pretty-printed with 2-space indent.
Status WriteJsonFile(const std::string& path, const Json& json);

bool FileExists(const std::string& path);

}  // namespace embody::io
