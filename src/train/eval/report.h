// The seed study's results table (Platform | Policy | Format | Inference latency | Test (20) |
// Val (10) | Global (30)) from evaluation summaries, and a PNG bar chart of the same rows.
#pragma once

#include <string>
#include <vector>

#include "io/image.h"
#include "train/eval/policy_eval.h"

namespace embody::train {

// Markdown table, one row per summary, in the given order.
std::string FormatReportTable(const std::vector<EvalSummary>& rows);

// Grouped bars (test, val, global success per row), labelled; white background.
io::Image PlotReport(const std::vector<EvalSummary>& rows, int height = 420, int width = 960);

}  // namespace embody::train
