#include "cli/policy_type.h"

#include "io/json_file.h"

namespace embody::cli {

Result<std::string> PolicyType(const std::string& dir) {
  const std::string path = dir + "/config.json";
  EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(path));
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    return InvalidArgument(path + ": missing \"type\" (expected \"act\" or \"smolvla\")");
  const std::string type = j["type"].get<std::string>();
  if (type != "act" && type != "smolvla")
    return Unimplemented(path + ": policy type \"" + type + "\" is not supported (act, smolvla)");
  return type;
}

}  // namespace embody::cli
