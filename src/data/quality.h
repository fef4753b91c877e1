// Dataset quality checks (`embody dataset check`): the recording practice the study relies on.
//
//  features     only what the policy sees at run time is recorded (action, observation.state,
//               observation.images.*, LeRobot's defaults); anything else fails
//  timing       every episode's timestamps are frame_index / fps (Dataset::Open), and every
//               camera's video holds a frame at the episode's first and last timestamps within
//               tolerance (dropped or extra frames, mismatched counts)
//  drift        each camera's first frame of every episode against episode 0's (mean absolute
//               difference of 64x48 grey thumbnails, 0..255): a moved camera shows up here;
//               cameras named *gripper* / *wrist* ride on the arm and are not checked for drift
//  lighting     mean brightness of first frames across episodes and first vs last frame inside
//               episodes (relative change)
//  contrast     spread of grey levels (5th to 95th percentile) of first frames: arm, object and
//               background must not wash out into one level
//  calibration  calibration backups under meta/calibration/ for real-robot datasets
//  stats        meta/stats.json covers every feature
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/reader.h"
#include "io/json_file.h"

namespace embody::data {

struct QualityThresholds {
  double drift_warn = 10, drift_fail = 25;        // mean abs grey difference (0..255)
  double lighting_warn = 0.08, lighting_fail = 0.2;  // relative brightness change
  double contrast_warn = 40, contrast_fail = 15;     // grey p95 - p5 (0..255)
};

enum class CheckLevel { kOk, kWarn, kFail };
struct CheckResult {
  std::string name;
  CheckLevel level = CheckLevel::kOk;
  std::string detail;
};

struct QualityReport {
  std::vector<CheckResult> checks;
  bool failed() const;
  io::Json ToJson() const;
};

// Runs every check. Errors only when the dataset cannot be read at all (then the caller reports
// the Status); problems found in readable data are failed checks in the report.
Result<QualityReport> CheckDataset(const Dataset& dataset, const QualityThresholds& thresholds = {},
                                   const std::function<void(int, int)>& progress = nullptr);

}  // namespace embody::data
