// embody-train: the libtorch half of the CLI (`embody train` execs it; sibling.h says why it is
// a separate executable). It never loads the inference runtime: checkpoints are evaluated by
// running `embody eval`.
#include <CLI/CLI.hpp>
#include <functional>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"embody-train: training on libtorch (run as `embody train`)"};
  app.require_subcommand(1);
  std::function<int()> run;
  embody::cli::RegisterTrain(app, run);
  CLI11_PARSE(app, argc, argv);
  return run ? run() : 0;
}
