// The embody executables that live side by side in one folder: `embody` (everything that runs a
// model) and `embody-train` (libtorch). They are separate processes because libtorch 2.x carries
// its own oneDNN 3.x whose exported C++ template instances (e.g. the call_once thunks of oneDNN's
// GEMM JIT initialisation) interpose on Debian's oneDNN 2.7 that the runtime uses: in one process
// the runtime's GEMM kernels were initialised by torch's code and `embody infer` returned wrong
// actions. So `embody train` execs embody-train, and embody-train runs `embody eval` to evaluate.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace embody::cli {

// Path of executable `name` in the folder of the running executable (/proc/self/exe).
// FailedPrecondition when that file is the running executable itself (a copy of `embody` named
// `embody-train` would otherwise exec itself forever).
Result<std::string> SiblingExecutable(const std::string& name);
// Replaces this process with `path argv...`; returns only on failure.
Status ExecInPlace(const std::string& path, const std::vector<std::string>& argv);
// Runs `path argv...` with this process's stdin/stderr (stdout to /dev/null when quiet_stdout), waits,
// and returns its exit code; an error when it cannot start or dies by a signal.
Result<int> RunAndWait(const std::string& path, const std::vector<std::string>& argv, bool quiet_stdout);

}  // namespace embody::cli
