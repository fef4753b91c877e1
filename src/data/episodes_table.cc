#include "data/episodes_table.h"

#include "data/format.h"

namespace embody::data {

namespace {
ValueType TypeOf(const std::string& dtype) {
  if (dtype == "float32") return ValueType::kFloat32;
  if (dtype == "float64") return ValueType::kFloat64;
  if (dtype == "bool") return ValueType::kBool;
  return ValueType::kInt64;
}
}  // namespace

std::string HuggingFaceMetadata(const DatasetInfo& info) {
  io::Json feats = io::Json::object();
  for (const Feature& f : info.features) {
    if (f.is_video()) continue;
    if (f.is_image()) {
      feats[f.name] = {{"_type", "Image"}};
    } else if (f.shape.size() == 1 && f.shape[0] == 1) {
      feats[f.name] = {{"dtype", f.dtype}, {"_type", "Value"}};
    } else {
      feats[f.name] = {{"feature", {{"dtype", f.dtype}, {"_type", "Value"}}}, {"length", f.shape[0]}, {"_type", "List"}};
    }
  }
  return io::Json{{"info", {{"features", feats}}}}.dump();
}

Result<Table> EmptyDataTable(const DatasetInfo& info) {
  Table t;
  for (const Feature& f : info.features) {
    if (f.is_video()) continue;
    if (!f.is_numeric()) return Unimplemented("writer: feature '" + f.name + "' of dtype " + f.dtype);
    if (f.shape.size() != 1) return Unimplemented("writer: feature '" + f.name + "' is not a vector");
    if (f.shape[0] == 1) t.columns.push_back(ScalarColumn(f.name, TypeOf(f.dtype)));
    else t.columns.push_back(FixedListColumn(f.name, TypeOf(f.dtype), f.shape));
  }
  t.metadata["huggingface"] = HuggingFaceMetadata(info);
  return t;
}

Table TasksTable(const std::vector<std::string>& tasks) {
  Table t;
  Column idx = ScalarColumn("task_index", ValueType::kInt64);
  Column name = ScalarColumn("task", ValueType::kString);
  for (size_t i = 0; i < tasks.size(); ++i) {
    idx.AppendInt64(static_cast<int64_t>(i));
    name.AppendString(tasks[i]);
  }
  t.columns = {idx, name};
  // pandas reads "task" back as the DataFrame index (LeRobot looks tasks up by index).
  io::Json pandas = {
      {"index_columns", {"task"}},
      {"column_indexes",
       {{{"name", nullptr}, {"field_name", nullptr}, {"pandas_type", "unicode"}, {"numpy_type", "object"},
         {"metadata", {{"encoding", "UTF-8"}}}}}},
      {"columns",
       {{{"name", "task_index"}, {"field_name", "task_index"}, {"pandas_type", "int64"}, {"numpy_type", "int64"},
         {"metadata", nullptr}},
        {{"name", "task"}, {"field_name", "task"}, {"pandas_type", "unicode"}, {"numpy_type", "object"},
         {"metadata", nullptr}}}},
      {"attributes", io::Json::object()},
      {"creator", {{"library", "embody"}, {"version", "0.1.0"}}},
      {"pandas_version", "2.2.3"}};
  t.metadata["pandas"] = pandas.dump();
  return t;
}

Result<std::vector<std::string>> ParseTasksTable(const Table& t, const std::string& file) {
  const Column* idx = t.Find("task_index");
  if (!idx || idx->list != ListKind::kScalar || idx->type != ValueType::kInt64)
    return DataLoss(file + ": column 'task_index' missing or not int64");
  const Column* name = t.Find("task");
  if (!name) name = t.Find("__index_level_0__");
  if (!name)
    for (const Column& c : t.columns)
      if (c.type == ValueType::kString && c.list == ListKind::kScalar) name = &c;
  if (!name || name->type != ValueType::kString || name->list != ListKind::kScalar)
    return DataLoss(file + ": no task string column");
  std::vector<std::string> out(static_cast<size_t>(t.num_rows()));
  std::vector<uint8_t> seen(out.size(), 0);
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    const int64_t i = idx->i64[static_cast<size_t>(r)];
    if (idx->is_null(r) || i < 0 || i >= t.num_rows() || seen[static_cast<size_t>(i)])
      return DataLoss(file + ": task_index row " + std::to_string(r) + " is not a permutation of 0.." +
                      std::to_string(t.num_rows() - 1));
    seen[static_cast<size_t>(i)] = 1;
    out[static_cast<size_t>(i)] = name->str[static_cast<size_t>(r)];
  }
  return out;
}

Status AppendStatsColumns(const StatsMap& stats, const std::vector<std::string>& order, Table* t) {
  const bool fresh = t->Find("stats/" + (order.empty() ? "" : order[0]) + "/min") == nullptr;
  for (const std::string& key : order) {
    auto it = stats.find(key);
    if (it == stats.end()) return Internal("stats for '" + key + "' missing");
    const FeatureStats& s = it->second;
    auto put = [&](const std::string& stat, const std::vector<double>& v) -> Status {
      const std::string name = "stats/" + key + "/" + stat;
      if (fresh) t->columns.push_back(VariableListColumn(name, ValueType::kFloat64, s.shape));
      Column* c = t->Find(name);
      if (!c) return Internal("episodes table lacks column " + name);
      c->AppendNumbers(v.data(), static_cast<int64_t>(v.size()));
      return Status::Ok();
    };
    EMBODY_TRY(put("min", s.min));
    EMBODY_TRY(put("max", s.max));
    EMBODY_TRY(put("mean", s.mean));
    EMBODY_TRY(put("std", s.std));
    const std::string cname = "stats/" + key + "/count";
    if (fresh) t->columns.push_back(VariableListColumn(cname, ValueType::kInt64, {1}));
    Column* c = t->Find(cname);
    if (!c) return Internal("episodes table lacks column " + cname);
    const double n = static_cast<double>(s.count);
    c->AppendNumbers(&n, 1);
    for (size_t qi = 0; qi < kQuantiles.size(); ++qi) EMBODY_TRY(put(kQuantileKeys[qi], s.q[qi]));
  }
  return Status::Ok();
}

StatsMap StatsFromEpisodeRow(const Table& t, int64_t row) {
  StatsMap out;
  for (const Column& c : t.columns) {
    if (c.name.rfind("stats/", 0) != 0 || c.list == ListKind::kScalar || c.is_null(row)) continue;
    const size_t slash = c.name.rfind('/');
    if (slash <= 6) continue;
    const std::string key = c.name.substr(6, slash - 6), stat = c.name.substr(slash + 1);
    FeatureStats& s = out[key];
    std::vector<double> v;
    for (int64_t i = c.row_begin(row); i < c.row_end(row); ++i) v.push_back(c.number(i));
    if (stat == "count") s.count = v.empty() ? 0 : static_cast<int64_t>(v[0]);
    else if (stat == "min") s.min = v;
    else if (stat == "max") s.max = v;
    else if (stat == "mean") s.mean = v, s.shape = c.shape;
    else if (stat == "std") s.std = v;
    else
      for (size_t qi = 0; qi < kQuantiles.size(); ++qi)
        if (stat == kQuantileKeys[qi]) s.q[qi] = v;
  }
  return out;
}

}  // namespace embody::data
