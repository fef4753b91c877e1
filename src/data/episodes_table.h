// The parquet tables of a v3.0 dataset as embody writes them (data rows, episode rows, tasks),
// shared by the writer (which builds them) and the reader/resume (which parse episode rows back).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "data/info.h"
#include "data/stats.h"
#include "data/table.h"

namespace embody::data {

// The schema metadata "huggingface" (datasets' Features JSON) for the data files' columns.
std::string HuggingFaceMetadata(const DatasetInfo& info);

// An empty data table with one column per non-video feature, in features order.
Result<Table> EmptyDataTable(const DatasetInfo& info);

// meta/tasks.parquet: task_index (int64) and task (string, the pandas index).
Table TasksTable(const std::vector<std::string>& tasks);
// Tasks by index from a tasks.parquet table (ours, LeRobot's "__index_level_0__" or "task").
Result<std::vector<std::string>> ParseTasksTable(const Table& t, const std::string& file);

// Adds the stats of one episode as LeRobot's "stats/<feature>/<stat>" columns of row `row`
// (creating the columns when the table has no rows yet).
Status AppendStatsColumns(const StatsMap& stats, const std::vector<std::string>& feature_order, Table* t);
// Reads them back for row `row`.
StatsMap StatsFromEpisodeRow(const Table& t, int64_t row);

}  // namespace embody::data
