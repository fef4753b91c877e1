// embody: one CLI for the whole chain (inspect, infer, benchmark; more subcommands as issues land).
#include <CLI/CLI.hpp>
#include <functional>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"embody: LeRobot policies (ACT, SmolVLA) from dataset to embedded deployment, in C++"};
  app.require_subcommand(1);
  std::function<int()> run;
  embody::cli::RegisterInfo(app, run);
  embody::cli::RegisterInfer(app, run);
  embody::cli::RegisterBench(app, run);
  embody::cli::RegisterSeedCheckpoint(app, run);
  embody::cli::RegisterQuantize(app, run);
  embody::cli::RegisterCalibrate(app, run);
  embody::cli::RegisterTeleop(app, run);
  embody::cli::RegisterCameras(app, run);
  embody::cli::RegisterRobotBench(app, run);
  embody::cli::RegisterRobotEmulator(app, run);
#ifdef EMBODY_HAVE_SIM
  embody::cli::RegisterSim(app, run);
  embody::cli::RegisterRun(app, run);
#endif
#ifdef EMBODY_HAVE_SERVE
  embody::cli::RegisterServe(app, run);
#endif
  embody::cli::RegisterTrain(app, run);  // runs embody-train (libtorch), when built
#ifdef EMBODY_HAVE_EVAL
  embody::cli::RegisterEval(app, run);
  embody::cli::RegisterReport(app, run);
#endif
#ifdef EMBODY_HAVE_DATA
  embody::cli::RegisterDataset(app, run);
#endif
#if defined(EMBODY_HAVE_DATA) && defined(EMBODY_HAVE_SIM)
  embody::cli::RegisterRecord(app, run);
#endif
  CLI11_PARSE(app, argc, argv);
  return run ? run() : 0;
}
