#include "data/reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "data/episodes_table.h"
#include "data/format.h"
#include "data/parquet.h"
#include "data/video.h"
#include "stb/stb_image.h"

namespace fs = std::filesystem;

namespace embody::data {

namespace {

bool IsDefaultFeature(const std::string& name) {
  for (auto d : kDefaultFeatures)
    if (name == d) return true;
  return false;
}

std::string Ep(int64_t e) { return "episode " + std::to_string(e); }

std::vector<std::string> ParquetFilesUnder(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.path().extension() == ".parquet" && e.is_regular_file()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<io::Json>> ReadJsonLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": no such file");
  std::vector<io::Json> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    io::Json j = io::Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return DataLoss(path + ": line " + std::to_string(n) + " is not a JSON object");
    out.push_back(std::move(j));
  }
  return out;
}

Result<int64_t> JsonInt(const io::Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return DataLoss(where + ": '" + key + "' missing or not an integer");
  return it->get<int64_t>();
}

}  // namespace

Result<std::unique_ptr<Dataset>> Dataset::Open(const std::string& root, const OpenOptions& options) {
  std::unique_ptr<Dataset> d(new Dataset());
  d->root_ = root;
  d->options_ = options;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return NotFound(root + ": no such dataset directory");
  EMBODY_ASSIGN_OR_RETURN(d->info_, ReadInfo((fs::path(root) / kInfoPath).string()));
  for (const Feature& f : d->info_.features)
    if (f.is_numeric() && f.shape.size() != 1)
      return Unimplemented(root + "/meta/info.json: feature '" + f.name + "' has " + std::to_string(f.shape.size()) +
                           " dimensions; embody reads vectors");
  if (d->info_.is_v21()) {
    EMBODY_TRY(d->LoadV21());
  } else {
    EMBODY_TRY(d->LoadV3());
  }
  EMBODY_TRY(d->Validate());
  return d;
}

Status Dataset::LoadV3() {
  const fs::path r(root_);
  // tasks
  {
    const std::string path = (r / kTasksPath).string();
    EMBODY_ASSIGN_OR_RETURN(Table t, ReadParquet(path));
    EMBODY_ASSIGN_OR_RETURN(tasks_, ParseTasksTable(t, path));
  }
  // episodes: rows over sorted files, in episode order; rows past total_episodes are a crashed
  // recording's uncommitted leftovers and are ignored.
  const std::vector<std::string> files = ParquetFilesUnder(r / "meta/episodes");
  if (files.empty() && info_.total_episodes > 0) return NotFound((r / "meta/episodes").string() + ": no parquet files");
  const std::vector<std::string> video_keys = info_.video_keys();
  for (const std::string& f : files) {
    if (static_cast<int64_t>(episodes_.size()) >= info_.total_episodes) break;
    EMBODY_ASSIGN_OR_RETURN(auto pf, ParquetFile::Open(f));
    std::vector<std::string> want;
    for (const std::string& name : pf->column_names())
      if (name.rfind("stats/", 0) != 0) want.push_back(name);
    EMBODY_ASSIGN_OR_RETURN(Table t, pf->Read(want));
    auto col = [&](const std::string& name, bool required) -> Result<const Column*> {
      const Column* c = t.Find(name);
      if (!c) {
        if (required) return DataLoss(f + ": column '" + name + "' missing");
        return static_cast<const Column*>(nullptr);
      }
      if (c->list != ListKind::kScalar && name != "tasks") return DataLoss(f + ": column '" + name + "' is a list");
      return c;
    };
    EMBODY_ASSIGN_OR_RETURN(const Column* c_ep, col("episode_index", true));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_tasks, col("tasks", false));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_len, col("length", true));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_dc, col("data/chunk_index", true));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_df, col("data/file_index", true));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_from, col("dataset_from_index", true));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_to, col("dataset_to_index", true));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_cl, col(std::string(kEpisodeClusterColumn), false));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_rec, col(std::string(kEpisodeRecoveryColumn), false));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_split, col(std::string(kEpisodeSplitColumn), false));
    EMBODY_ASSIGN_OR_RETURN(const Column* c_succ, col(std::string(kEpisodeSuccessColumn), false));
    if (c_tasks && (c_tasks->type != ValueType::kString || c_tasks->list == ListKind::kScalar))
      return DataLoss(f + ": column 'tasks' is not a list of strings");
    if (c_split && c_split->type != ValueType::kString) return DataLoss(f + ": column 'embody/split' is not a string");
    for (const Column* c : {c_ep, c_len, c_dc, c_df, c_from, c_to})
      if (c->type == ValueType::kString || c->type == ValueType::kBinary || c->has_nulls())
        return DataLoss(f + ": column '" + c->name + "' is not an integer column without nulls");
    for (int64_t row = 0; row < t.num_rows() && static_cast<int64_t>(episodes_.size()) < info_.total_episodes; ++row) {
      EpisodeRecord e;
      e.index = static_cast<int64_t>(c_ep->number(row));
      const std::string where = f + ": row " + std::to_string(row) + " (" + Ep(e.index) + ")";
      if (e.index != static_cast<int64_t>(episodes_.size()))
        return DataLoss(where + ": episode_index " + std::to_string(e.index) + ", expected " +
                        std::to_string(episodes_.size()) + " (episodes must be in order without gaps)");
      e.length = static_cast<int64_t>(c_len->number(row));
      e.from = static_cast<int64_t>(c_from->number(row));
      e.to = static_cast<int64_t>(c_to->number(row));
      if (c_tasks)
        for (int64_t i = c_tasks->row_begin(row); i < c_tasks->row_end(row); ++i)
          e.tasks.push_back(c_tasks->str[static_cast<size_t>(i)]);
      e.data_path = (r / FormatPathTemplate(info_.data_path, "", static_cast<int64_t>(c_dc->number(row)),
                                            static_cast<int64_t>(c_df->number(row))))
                        .string();
      for (const std::string& key : video_keys) {
        const std::string p = "videos/" + key + "/";
        VideoRef v;
        for (const char* name : {"chunk_index", "file_index", "from_timestamp", "to_timestamp"}) {
          const Column* c = t.Find(p + name);
          if (!c || c->list != ListKind::kScalar || c->type == ValueType::kString || c->is_null(row))
            return DataLoss(where + ": column '" + p + name + "' missing or null");
        }
        v.chunk = static_cast<int64_t>(t.Find(p + "chunk_index")->number(row));
        v.file = static_cast<int64_t>(t.Find(p + "file_index")->number(row));
        v.from_s = t.Find(p + "from_timestamp")->number(row);
        v.to_s = t.Find(p + "to_timestamp")->number(row);
        v.path = (r / FormatPathTemplate(info_.video_path, key, v.chunk, v.file)).string();
        e.videos[key] = v;
      }
      if (c_cl && !c_cl->is_null(row)) e.cluster = static_cast<int>(c_cl->number(row));
      if (c_rec && !c_rec->is_null(row)) e.recovery = c_rec->number(row) != 0;
      if (c_split && !c_split->is_null(row)) e.split = c_split->str[static_cast<size_t>(row)];
      if (c_succ && !c_succ->is_null(row)) e.success = static_cast<int>(c_succ->number(row));
      episodes_.push_back(std::move(e));
    }
  }
  if (static_cast<int64_t>(episodes_.size()) != info_.total_episodes)
    return DataLoss((r / "meta/episodes").string() + ": " + std::to_string(episodes_.size()) +
                    " episode rows, meta/info.json total_episodes is " + std::to_string(info_.total_episodes));
  // stats.json is optional for reading (training needs it; `embody dataset check` reports it)
  const std::string stats_path = (r / kStatsPath).string();
  if (io::FileExists(stats_path)) {
    EMBODY_ASSIGN_OR_RETURN(io::Json j, io::ReadJsonFile(stats_path));
    EMBODY_ASSIGN_OR_RETURN(stats_, StatsFromJson(j, stats_path));
  }
  std::vector<std::string> data_files;
  for (const EpisodeRecord& e : episodes_)
    if (data_files.empty() || data_files.back() != e.data_path) data_files.push_back(e.data_path);
  return LoadData(data_files);
}

Status Dataset::LoadV21() {
  const fs::path r(root_);
  {
    const std::string path = (r / kTasksJsonlPath).string();
    EMBODY_ASSIGN_OR_RETURN(auto lines, ReadJsonLines(path));
    tasks_.assign(lines.size(), "");
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string where = path + ": line " + std::to_string(i + 1);
      EMBODY_ASSIGN_OR_RETURN(int64_t idx, JsonInt(lines[i], "task_index", where));
      auto t = lines[i].find("task");
      if (idx < 0 || idx >= static_cast<int64_t>(lines.size()) || t == lines[i].end() || !t->is_string())
        return DataLoss(where + ": bad task_index or task");
      tasks_[static_cast<size_t>(idx)] = t->get<std::string>();
    }
  }
  const std::string ep_path = (r / kEpisodesJsonlPath).string();
  EMBODY_ASSIGN_OR_RETURN(auto lines, ReadJsonLines(ep_path));
  int64_t from = 0;
  for (size_t i = 0; i < lines.size() && static_cast<int64_t>(i) < info_.total_episodes; ++i) {
    const std::string where = ep_path + ": line " + std::to_string(i + 1);
    EpisodeRecord e;
    EMBODY_ASSIGN_OR_RETURN(e.index, JsonInt(lines[i], "episode_index", where));
    EMBODY_ASSIGN_OR_RETURN(e.length, JsonInt(lines[i], "length", where));
    if (e.index != static_cast<int64_t>(i)) return DataLoss(where + ": episode_index " + std::to_string(e.index) +
                                                            ", expected " + std::to_string(i));
    if (auto t = lines[i].find("tasks"); t != lines[i].end() && t->is_array())
      for (const auto& s : *t)
        if (s.is_string()) e.tasks.push_back(s.get<std::string>());
    e.from = from;
    e.to = from + e.length;
    from = e.to;
    const int64_t chunk = e.index / std::max<int64_t>(info_.chunks_size, 1);
    e.data_path = (r / FormatPathTemplate(info_.data_path, "", 0, 0, chunk, e.index)).string();
    for (const std::string& key : info_.video_keys()) {
      VideoRef v;
      v.path = (r / FormatPathTemplate(info_.video_path, key, 0, 0, chunk, e.index)).string();
      v.from_s = 0;
      v.to_s = static_cast<double>(e.length) / info_.fps;
      e.videos[key] = v;
    }
    episodes_.push_back(std::move(e));
  }
  if (static_cast<int64_t>(episodes_.size()) != info_.total_episodes)
    return DataLoss(ep_path + ": " + std::to_string(episodes_.size()) + " episodes, meta/info.json total_episodes is " +
                    std::to_string(info_.total_episodes));
  // stats: v2.1 keeps per-episode stats; aggregate them (a stale stats.json may exist: ignored)
  const std::string st_path = (r / kEpisodesStatsJsonlPath).string();
  if (io::FileExists(st_path)) {
    EMBODY_ASSIGN_OR_RETURN(auto st_lines, ReadJsonLines(st_path));
    std::vector<StatsMap> per_ep;
    for (size_t i = 0; i < st_lines.size(); ++i) {
      auto s = st_lines[i].find("stats");
      if (s == st_lines[i].end()) return DataLoss(st_path + ": line " + std::to_string(i + 1) + ": no 'stats'");
      EMBODY_ASSIGN_OR_RETURN(StatsMap m, StatsFromJson(*s, st_path + ": line " + std::to_string(i + 1)));
      per_ep.push_back(std::move(m));
    }
    stats_ = AggregateStats(per_ep);
  }
  std::vector<std::string> files;
  for (const EpisodeRecord& e : episodes_) files.push_back(e.data_path);
  return LoadData(files);
}

Status Dataset::LoadData(const std::vector<std::string>& files) {
  // numeric features stored in the data files (all but video/image/string)
  std::vector<const Feature*> feats;
  std::vector<std::string> names;
  for (const Feature& f : info_.features) {
    if (!f.is_numeric()) continue;
    feats.push_back(&f);
    names.push_back(f.name);
    if (!IsDefaultFeature(f.name) || f.name == "timestamp")
      columns_[f.name] = {f.numel(), std::vector<float>(static_cast<size_t>(info_.total_frames * f.numel()))};
  }
  task_index_.assign(static_cast<size_t>(info_.total_frames), 0);
  for (auto d : kDefaultFeatures)
    if (!info_.Find(std::string(d))) return DataLoss(root_ + "/meta/info.json: features: '" + std::string(d) + "' missing");
  size_t ep = 0;
  for (const std::string& file : files) {
    EMBODY_ASSIGN_OR_RETURN(Table t, ReadParquet(file, names));
    for (size_t k = 0; k < feats.size(); ++k) {
      const Column& c = t.columns[k];
      const Feature& f = *feats[k];
      if (c.type == ValueType::kString || c.type == ValueType::kBinary)
        return DataLoss(file + ": column '" + f.name + "' holds " + std::string(ValueTypeName(c.type)) +
                        ", info.json says " + f.dtype);
      if (c.list == ListKind::kScalar && f.numel() != 1)
        return DataLoss(file + ": column '" + f.name + "' is scalar, info.json shape needs " +
                        std::to_string(f.numel()) + " values");
    }
    const Column& index = t.columns[static_cast<size_t>(std::find(names.begin(), names.end(), "index") - names.begin())];
    // the episodes stored in this file (consecutive in episode order)
    int64_t row = 0;
    for (; ep < episodes_.size() && episodes_[ep].data_path == file; ++ep) {
      const EpisodeRecord& e = episodes_[ep];
      // locate the episode's first row through the index column
      if (row >= t.num_rows() || static_cast<int64_t>(index.number(row)) != e.from) {
        int64_t found = -1;
        for (int64_t r2 = 0; r2 < t.num_rows(); ++r2)
          if (static_cast<int64_t>(index.number(r2)) == e.from) {
            found = r2;
            break;
          }
        if (found < 0)
          return DataLoss(file + ": " + Ep(e.index) + ": no row with index " + std::to_string(e.from) +
                          " (meta/episodes dataset_from_index)");
        row = found;
      }
      if (row + e.length > t.num_rows())
        return DataLoss(file + ": " + Ep(e.index) + ": length " + std::to_string(e.length) + " but the file has only " +
                        std::to_string(t.num_rows() - row) + " rows from its start");
      for (int64_t i = 0; i < e.length; ++i) {
        const int64_t rr = row + i;
        const int64_t g = e.from + i;
        for (size_t k = 0; k < feats.size(); ++k) {
          const Column& c = t.columns[k];
          const Feature& f = *feats[k];
          if (c.is_null(rr))
            return DataLoss(file + ": " + Ep(e.index) + " frame " + std::to_string(i) + ": '" + f.name + "' is null");
          const int64_t b = c.row_begin(rr), n = c.row_end(rr) - b;
          if (n != f.numel())
            return DataLoss(file + ": " + Ep(e.index) + " frame " + std::to_string(i) + ": '" + f.name + "' has " +
                            std::to_string(n) + " values, shape needs " + std::to_string(f.numel()));
          if (f.name == "index" || f.name == "episode_index" || f.name == "frame_index") {
            const int64_t want = f.name == "index" ? g : f.name == "episode_index" ? e.index : i;
            if (static_cast<int64_t>(c.number(b)) != want)
              return DataLoss(file + ": " + Ep(e.index) + " frame " + std::to_string(i) + ": " + f.name + " is " +
                              std::to_string(static_cast<int64_t>(c.number(b))) + ", expected " + std::to_string(want));
            continue;
          }
          if (f.name == "task_index") {
            const int64_t ti = static_cast<int64_t>(c.number(b));
            if (ti < 0 || ti >= static_cast<int64_t>(tasks_.size()))
              return DataLoss(file + ": " + Ep(e.index) + " frame " + std::to_string(i) + ": task_index " +
                              std::to_string(ti) + " not in the " + std::to_string(tasks_.size()) + " tasks");
            task_index_[static_cast<size_t>(g)] = ti;
            continue;
          }
          float* dst = columns_[f.name].second.data() + g * n;
          for (int64_t j = 0; j < n; ++j) dst[j] = static_cast<float>(c.number(b + j));
          if (f.name == "timestamp" && options_.check_timestamps) {
            const double want = static_cast<double>(i) / info_.fps;
            if (!std::isfinite(dst[0]) || std::fabs(dst[0] - want) > options_.tolerance_s + 1e-6 * want)
              return DataLoss(file + ": " + Ep(e.index) + " frame " + std::to_string(i) + ": timestamp " +
                              std::to_string(dst[0]) + " s, expected " + std::to_string(want) + " s at " +
                              std::to_string(info_.fps) + " fps (tolerance " + std::to_string(options_.tolerance_s) +
                              " s): dropped frames or a timestamp gap");
          }
        }
      }
      row += e.length;
    }
  }
  if (ep != episodes_.size()) return Internal("episodes and data files out of step");
  return Status::Ok();
}

Status Dataset::Validate() {
  int64_t next = 0;
  for (const EpisodeRecord& e : episodes_) {
    if (e.length <= 0) return DataLoss(root_ + ": " + Ep(e.index) + ": length " + std::to_string(e.length));
    if (e.from != next || e.to - e.from != e.length)
      return DataLoss(root_ + ": " + Ep(e.index) + ": dataset_from_index/dataset_to_index [" + std::to_string(e.from) +
                      ", " + std::to_string(e.to) + ") disagree with length " + std::to_string(e.length) +
                      " and the previous episode's end " + std::to_string(next));
    next = e.to;
    for (const auto& [key, v] : e.videos) {
      const double span = v.to_s - v.from_s, want = static_cast<double>(e.length) / info_.fps;
      if (!std::isfinite(span) || v.from_s < 0 || std::fabs(span - want) > 0.5 / info_.fps + options_.tolerance_s)
        return DataLoss(root_ + ": " + Ep(e.index) + ": videos/" + key + " spans " + std::to_string(span) + " s but " +
                        std::to_string(e.length) + " frames at " + std::to_string(info_.fps) + " fps last " +
                        std::to_string(want) + " s (mismatched frame counts)");
      if (!io::FileExists(v.path)) return NotFound(v.path + ": video of " + Ep(e.index) + " (" + key + ") is missing");
    }
  }
  if (next != info_.total_frames)
    return DataLoss(root_ + "/meta/info.json: total_frames " + std::to_string(info_.total_frames) +
                    ", the episodes hold " + std::to_string(next));
  return Status::Ok();
}

std::vector<std::string> Dataset::numeric_keys() const {
  std::vector<std::string> out;
  for (const Feature& f : info_.features)
    if (columns_.count(f.name)) out.push_back(f.name);
  return out;
}

const float* Dataset::Row(const std::string& key, int64_t index) const {
  const auto& c = columns_.at(key);
  return c.second.data() + index * c.first;
}

Result<int64_t> Dataset::GlobalIndex(int64_t episode, int64_t frame) const {
  if (episode < 0 || episode >= num_episodes())
    return OutOfRange(root_ + ": episode " + std::to_string(episode) + " of " + std::to_string(num_episodes()));
  const EpisodeRecord& e = episodes_[static_cast<size_t>(episode)];
  if (frame < 0 || frame >= e.length)
    return OutOfRange(root_ + ": " + Ep(episode) + " frame " + std::to_string(frame) + " of " + std::to_string(e.length));
  return e.from + frame;
}

Result<int64_t> Dataset::EpisodeOf(int64_t index) const {
  if (index < 0 || index >= info_.total_frames)
    return OutOfRange(root_ + ": frame index " + std::to_string(index) + " of " + std::to_string(info_.total_frames));
  auto it = std::upper_bound(episodes_.begin(), episodes_.end(), index,
                             [](int64_t v, const EpisodeRecord& e) { return v < e.from; });
  return static_cast<int64_t>(it - episodes_.begin()) - 1;
}

Result<std::vector<float>> Dataset::Value(const std::string& key, int64_t episode, int64_t frame) const {
  EMBODY_ASSIGN_OR_RETURN(int64_t g, GlobalIndex(episode, frame));
  auto it = columns_.find(key);
  if (it == columns_.end()) return NotFound(root_ + ": no numeric feature '" + key + "'");
  const float* p = it->second.second.data() + g * it->second.first;
  return std::vector<float>(p, p + it->second.first);
}

std::unique_ptr<FrameReader> Dataset::NewFrameReader(int decoder_threads) const {
  return std::make_unique<FrameReader>(*this, decoder_threads);
}

// ---------------------------------------------------------------- FrameReader

struct FrameReader::Decoders {
  std::map<std::string, std::unique_ptr<VideoDecoder>> videos;  // by path
  std::map<std::string, Table> image_columns;                    // "<file>|<key>" -> column table
};

FrameReader::FrameReader(const Dataset& ds, int threads) : ds_(ds), threads_(threads), dec_(std::make_unique<Decoders>()) {}
FrameReader::~FrameReader() = default;

Result<io::Image> FrameReader::Image(const std::string& key, int64_t episode, int64_t frame) {
  EMBODY_ASSIGN_OR_RETURN(int64_t g, ds_.GlobalIndex(episode, frame));
  const Feature* f = ds_.info().Find(key);
  if (!f || !f->is_camera()) return NotFound(ds_.root() + ": no camera feature '" + key + "'");
  const EpisodeRecord& e = ds_.episodes()[static_cast<size_t>(episode)];
  const std::string where = ds_.root() + ": " + Ep(episode) + " frame " + std::to_string(frame) + " '" + key + "'";
  io::Image img;
  if (f->is_video()) {
    const VideoRef& v = e.videos.at(key);
    auto& d = dec_->videos[v.path];
    if (!d) {
      auto o = VideoDecoder::Open(v.path, threads_);
      if (!o.ok()) {
        dec_->videos.erase(v.path);
        return o.status().WithContext(where);
      }
      d = std::move(*o);
    }
    const double t = v.from_s + static_cast<double>(*ds_.Row("timestamp", g));
    EMBODY_TRY_CTX(d->FrameAt(t, ds_.options().tolerance_s, &img), where);
  } else {
    const std::string cache_key = e.data_path + "|" + key;
    auto it = dec_->image_columns.find(cache_key);
    if (it == dec_->image_columns.end()) {
      EMBODY_ASSIGN_OR_RETURN(Table t, ReadParquet(e.data_path, {key, "index"}));
      it = dec_->image_columns.emplace(cache_key, std::move(t)).first;
    }
    const Table& t = it->second;
    const Column& idx = t.columns[1];
    int64_t row = -1;
    for (int64_t r = 0; r < t.num_rows(); ++r)
      if (static_cast<int64_t>(idx.number(r)) == g) {
        row = r;
        break;
      }
    if (row < 0 || t.columns[0].type != ValueType::kBinary || t.columns[0].is_null(row))
      return DataLoss(e.data_path + ": " + Ep(episode) + " frame " + std::to_string(frame) + ": no image bytes for '" + key + "'");
    const std::string& bytes = t.columns[0].str[static_cast<size_t>(row)];
    int w = 0, h = 0, ch = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &w, &h, &ch, 3);
    if (!px) return DataLoss(where + ": embedded image does not decode");
    img.width = w;
    img.height = h;
    img.pixels.assign(px, px + static_cast<size_t>(w) * h * 3);
    stbi_image_free(px);
  }
  if (img.height != f->height() || img.width != f->width())
    return DataLoss(where + ": decoded " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                    ", info.json says " + std::to_string(f->width()) + "x" + std::to_string(f->height()));
  return img;
}

Result<Sample> FrameReader::Get(int64_t index, const SampleRequest& req) {
  EMBODY_ASSIGN_OR_RETURN(int64_t ep, ds_.EpisodeOf(index));
  const EpisodeRecord& e = ds_.episodes()[static_cast<size_t>(ep)];
  Sample s;
  s.index = index;
  s.episode = ep;
  s.frame = index - e.from;
  s.timestamp = *ds_.Row("timestamp", index);
  s.task_index = ds_.task_index_[static_cast<size_t>(index)];
  s.task = ds_.tasks()[static_cast<size_t>(s.task_index)];
  auto queries = [&](const std::string& key, std::vector<int64_t>* q, std::vector<uint8_t>* pad) {
    auto it = req.delta_indices.find(key);
    if (it == req.delta_indices.end()) {
      q->push_back(index);
      return false;
    }
    for (int d : it->second) {
      const int64_t want = index + d;
      q->push_back(std::clamp<int64_t>(want, e.from, e.to - 1));
      pad->push_back(want < e.from || want >= e.to);
    }
    return true;
  };
  for (const std::string& key : ds_.numeric_keys()) {
    std::vector<int64_t> q;
    std::vector<uint8_t> pad;
    const bool deltas = queries(key, &q, &pad);
    std::vector<float>& out = s.values[key];
    for (int64_t g : q) {
      const auto& c = ds_.columns_.at(key);
      const float* p = c.second.data() + g * c.first;
      out.insert(out.end(), p, p + c.first);
    }
    if (deltas) s.is_pad[key + "_is_pad"] = std::move(pad);
  }
  if (req.decode_images) {
    for (const std::string& key : ds_.info().camera_keys()) {
      std::vector<int64_t> q;
      std::vector<uint8_t> pad;
      const bool deltas = queries(key, &q, &pad);
      for (int64_t g : q) {
        EMBODY_ASSIGN_OR_RETURN(io::Image img, Image(key, ep, g - e.from));
        s.images[key].push_back(std::move(img));
      }
      if (deltas) s.is_pad[key + "_is_pad"] = std::move(pad);
    }
  }
  return s;
}

}  // namespace embody::data
