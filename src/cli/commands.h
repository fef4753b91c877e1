// Each subcommand registers itself on the app and runs when selected.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace embody::cli {

// Returns the action to run if the subcommand was selected (set into `run`).
void RegisterInfo(CLI::App& app, std::function<int()>& run);
void RegisterInfer(CLI::App& app, std::function<int()>& run);
void RegisterBench(CLI::App& app, std::function<int()>& run);
void RegisterSeedCheckpoint(CLI::App& app, std::function<int()>& run);
void RegisterQuantize(CLI::App& app, std::function<int()>& run);
void RegisterSim(CLI::App& app, std::function<int()>& run);
void RegisterRun(CLI::App& app, std::function<int()>& run);
void RegisterServe(CLI::App& app, std::function<int()>& run);
// The real arm (issue 10).
void RegisterCalibrate(CLI::App& app, std::function<int()>& run);
void RegisterTeleop(CLI::App& app, std::function<int()>& run);
void RegisterCameras(CLI::App& app, std::function<int()>& run);
void RegisterRobotBench(CLI::App& app, std::function<int()>& run);
void RegisterRobotEmulator(CLI::App& app, std::function<int()>& run);
void RegisterTrain(CLI::App& app, std::function<int()>& run);
void RegisterEval(CLI::App& app, std::function<int()>& run);
void RegisterReport(CLI::App& app, std::function<int()>& run);
// LeRobot datasets (issue 11).
void RegisterDataset(CLI::App& app, std::function<int()>& run);
void RegisterRecord(CLI::App& app, std::function<int()>& run);

}  // namespace embody::cli
