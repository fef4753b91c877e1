#include "data/split.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "data/format.h"
#include "data/parquet.h"

namespace embody::data {

io::Json SplitResult::ToJson() const {
  io::Json t = io::Json::array();
  for (const auto& p : test) t.push_back({{"cluster", p.cluster}, {"seed", p.seed}});
  return {{"train", train}, {"val", val}, {"test", t}, {"unknown_cluster", unknown_cluster}};
}

Result<SplitResult> ComputeSplit(const Dataset& ds, const SplitOptions& o) {
  SplitResult r;
  std::set<int> train_clusters;
  bool val_seen = false;
  for (const EpisodeRecord& e : ds.episodes()) {
    if (e.cluster < 0) r.unknown_cluster.push_back(e.index);
    else if (e.cluster == o.val_cluster) r.val.push_back(e.index), val_seen = true;
    else r.train.push_back(e.index), train_clusters.insert(e.cluster);
  }
  if (!r.unknown_cluster.empty() && r.train.empty() && r.val.empty())
    return FailedPrecondition(ds.root() + ": no episode has a cluster (embody/cluster column); record with "
                              "`embody record` or set clusters first");
  if (!val_seen)
    return FailedPrecondition(ds.root() + ": no episode in the held-out cluster " + std::to_string(o.val_cluster));
  for (int c : train_clusters)
    for (int k = 0; k < o.test_per_cluster; ++k)
      r.test.push_back({c, o.test_seed_base + static_cast<uint64_t>(c) * 100 + static_cast<uint64_t>(k)});
  return r;
}

Status WriteSplit(const std::string& root, const SplitResult& split) {
  std::map<int64_t, std::string> by_ep;
  for (int64_t e : split.train) by_ep[e] = "train";
  for (int64_t e : split.val) by_ep[e] = "val";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(std::filesystem::path(root) / "meta/episodes", ec))
    if (e.path().extension() == ".parquet") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    EMBODY_ASSIGN_OR_RETURN(auto pf, ParquetFile::Open(f));
    std::vector<int64_t> groups;
    for (int g = 0; g < pf->num_row_groups(); ++g) groups.push_back(pf->row_group_rows(g));
    EMBODY_ASSIGN_OR_RETURN(Table t, pf->Read());
    const Column* ep = t.Find("episode_index");
    if (!ep || ep->list != ListKind::kScalar) return DataLoss(f + ": column 'episode_index' missing");
    Column col = ScalarColumn(std::string(kEpisodeSplitColumn), ValueType::kString);
    for (int64_t r = 0; r < t.num_rows(); ++r) {
      auto it = by_ep.find(static_cast<int64_t>(ep->number(r)));
      col.AppendString(it == by_ep.end() ? "" : it->second);
    }
    if (Column* old = t.Find(col.name)) *old = std::move(col);
    else t.columns.push_back(std::move(col));
    EMBODY_TRY(WriteParquet(f, t, {.row_groups = groups}));
  }
  return io::WriteJsonFile((std::filesystem::path(root) / "meta/embody_split.json").string(), split.ToJson());
}

}  // namespace embody::data
