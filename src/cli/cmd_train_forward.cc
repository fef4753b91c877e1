// `embody train ...` runs `embody-train train ...` (see sibling.h for why training is a separate
// executable). Every argument, --help included, goes through unchanged.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sibling.h"

namespace embody::cli {

void RegisterTrain(CLI::App& app, std::function<int()>& run) {
  auto* sub = app.add_subcommand("train", "Train a policy (ACT) with libtorch; LeRobot checkpoint layout (runs embody-train)");
  sub->prefix_command();
  sub->set_help_flag();  // embody-train prints the options
  sub->callback([&run, sub] {
    run = [sub]() -> int {
      auto path = SiblingExecutable("embody-train");
      if (!path.ok() && path.status().code() == StatusCode::kFailedPrecondition) return Fail(path.status());
      if (!path.ok())
        return Fail(Unimplemented("embody train needs libtorch, which this build lacks (" + path.status().message() +
                                  "): EMBODY_WITH_TRAIN=1 scripts/setup.sh, then rebuild"));
      std::vector<std::string> args = {"train"};
      for (const std::string& s : sub->remaining()) args.push_back(s);
      return Fail(ExecInPlace(*path, args));
    };
  });
}

}  // namespace embody::cli
