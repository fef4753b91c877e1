// Loads a LeRobot checkpoint (ACT or SmolVLA) as a runtime::Policy for `embody run` and
// `embody serve`: either the plain policies (blocks one after another, on a thread of their own:
// ThreadBoundPolicy) or, with an executor list, the scheduled ones (blocks placed on executors by
// BlockScheduler). Either may be called from any thread (AsyncInference's, a server's).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/async/policy.h"
#include "runtime/sched/executor.h"

namespace embody::runtime::sched {

struct PolicyLoadOptions {
  int threads = 0;          // plain policies: threads (0: all cores)
  std::string executors;    // "": plain; "2x1@0,1" etc.: scheduled (ParseCpuExecutors)
  int vision_every = 1;     // SmolVLA, scheduled: refresh the image tokens every N chunks
  bool adaptive_vision = false;
  std::string task = "put the tea bag in the mug";  // SmolVLA's default instruction
  std::string tokenizer;    // SmolVLA: tokenizer.json (empty: the checkpoint's)
};

struct PolicyCamera {
  std::string key;  // observation.images.<name>
  int height = 0, width = 0;
};

struct LoadedPolicy {
  std::vector<std::unique_ptr<CpuExecutor>> executors;  // declared first: outlive the policy
  std::unique_ptr<Policy> policy;
  std::string type;                   // "act" or "smolvla"
  std::vector<PolicyCamera> cameras;  // the images the policy expects, in order
  int state_dim = 0;
  std::vector<std::string> notes;     // pinning or replica problems (the policy still runs)
};

Result<LoadedPolicy> LoadCheckpointPolicy(const std::string& dir, const PolicyLoadOptions& options);

}  // namespace embody::runtime::sched
