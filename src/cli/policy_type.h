// Which policy a checkpoint folder holds, from config.json's "type".
#pragma once

#include <string>

#include "core/status.h"

namespace embody::cli {

Result<std::string> PolicyType(const std::string& checkpoint_dir);

}  // namespace embody::cli
