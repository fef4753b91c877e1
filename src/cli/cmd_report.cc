// embody report: the seed study's table (Platform | Policy | Format | Inference latency |
// Test (20) | Val (10) | Global (30)) from `embody eval -o` results, and a PNG bar chart.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/common.h"
#include "train/eval/report.h"

namespace embody::cli {

namespace {

struct ReportArgs {
  std::vector<std::string> results;
  std::string plot;
  bool json = false;
};

int RunReport(const ReportArgs& a) {
  std::vector<train::EvalSummary> rows;
  for (const std::string& path : a.results) {
    auto j = io::ReadJsonFile(path);
    if (!j.ok()) return Fail(j.status());
    auto s = train::SummaryFromJson(*j, path);
    if (!s.ok()) return Fail(s.status());
    rows.push_back(*s);
  }
  if (!a.plot.empty())
    if (Status s = io::SavePng(a.plot, train::PlotReport(rows)); !s.ok()) return Fail(s);
  if (a.json) {
    io::Json out = io::Json::array();
    for (const auto& r : rows) out.push_back(train::SummaryToJson(r, false));
    PrintJson({{"rows", out}, {"plot", a.plot}});
    return 0;
  }
  std::printf("%s", train::FormatReportTable(rows).c_str());
  if (!a.plot.empty()) std::printf("wrote %s\n", a.plot.c_str());
  return 0;
}

}  // namespace

void RegisterReport(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand("report", "The results table (and a PNG plot) from embody eval results");
  sub->add_option("results", a->results, "Result JSON files of embody eval -o (rows, in order)")->required();
  sub->add_option("--plot", a->plot, "Write a PNG bar chart of the rows");
  sub->add_flag("--json", a->json, "Machine-readable output");
  sub->callback([&run, a] { run = [a] { return RunReport(*a); }; });
}

}  // namespace embody::cli
