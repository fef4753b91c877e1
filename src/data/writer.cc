#include "data/writer.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "core/timer.h"
#include "data/camera_worker.h"
#include "data/episodes_table.h"
#include "data/format.h"
#include "data/parquet.h"

namespace fs = std::filesystem;

namespace embody::data {

namespace {

double FileMb(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0.0 : static_cast<double>(n) / (1024.0 * 1024.0);
}

Status WriteJsonAtomic(const std::string& path, const io::Json& j) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  return io::WriteJsonFile(path, j);
}

}  // namespace

struct DatasetWriter::State {
  // schema
  int64_t state_dim = 0, action_dim = 0;
  std::vector<std::string> camera_keys;
  std::vector<std::unique_ptr<CameraWorker>> workers;
  std::vector<std::string> tasks;
  StatsMap stats;  // aggregated over committed episodes

  // current files
  int64_t data_chunk = 0, data_file = -1;  // -1: no file yet
  Table data_rows;                  // rows of the current data file (committed episodes)
  std::vector<int64_t> data_groups;  // one row group per episode
  bool data_fresh = true;           // the next episode starts a new data file
  int64_t ep_chunk = 0, ep_file = -1;
  Table ep_rows;
  bool ep_fresh = true;
  struct Video {
    int64_t chunk = 0, file = -1;  // -1: no file yet
    int64_t frames_in_file = 0;
    bool fresh = true;  // the next episode starts a new file
  };
  std::vector<Video> videos;

  // the open episode
  bool open = false;
  EpisodeMeta meta;
  std::vector<float> states, actions;
  int64_t frames = 0;
  Status frame_error;  // first AddFrame error (the episode cannot be committed)
  std::string encoder;  // codec the cameras use, known after the first commit
};

DatasetWriter::DatasetWriter() : state_(std::make_unique<State>()) {}

DatasetWriter::~DatasetWriter() {
  if (state_ && state_->open) DiscardEpisode();
}

bool DatasetWriter::episode_open() const { return state_->open; }
int64_t DatasetWriter::stalls() const {
  int64_t n = 0;
  for (const auto& w : state_->workers) n += w->stalls();
  return n;
}
std::string DatasetWriter::encoder_name() const {
  for (const auto& w : state_->workers)
    if (!w->encoder_name().empty()) return w->encoder_name();
  return state_->encoder;
}

namespace {

// Validates the schema the writer supports and fills the per-feature parts of State.
Status SetUpSchema(const DatasetInfo& info, const WriterOptions& o, int64_t* state_dim, int64_t* action_dim,
                   std::vector<std::string>* cams, std::vector<std::unique_ptr<CameraWorker>>* workers) {
  for (const Feature& f : info.features) {
    if (f.is_video()) {
      if (f.channels() != 3) return Unimplemented("writer: camera '" + f.name + "' is not RGB");
      if (f.height() % 2 || f.width() % 2)
        return InvalidArgument("writer: camera '" + f.name + "' size must be even (yuv420p)");
      cams->push_back(f.name);
      workers->push_back(std::make_unique<CameraWorker>(static_cast<int>(f.height()), static_cast<int>(f.width()),
                                                        info.fps, o.video, o.max_queued_frames));
    } else if (f.name == "observation.state") {
      *state_dim = f.numel();
    } else if (f.name == "action") {
      *action_dim = f.numel();
    } else if (f.is_image() || !f.is_numeric()) {
      return Unimplemented("writer: feature '" + f.name + "' (" + f.dtype + "): embody records action, "
                           "observation.state and video cameras");
    } else {
      bool is_default = false;
      for (auto d : kDefaultFeatures) is_default |= f.name == d;
      if (!is_default) return Unimplemented("writer: extra feature '" + f.name + "' is not supported yet");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<DatasetWriter>> DatasetWriter::Create(const std::string& root, const DatasetSpec& spec,
                                                             const WriterOptions& options) {
  if (spec.fps <= 0) return InvalidArgument("writer: fps must be > 0");
  if (spec.action_names.empty()) return InvalidArgument("writer: no action names");
  std::set<std::string> cam_names;
  for (const CameraShape& c : spec.cameras) {
    if (c.height <= 0 || c.width <= 0 || c.height % 2 || c.width % 2)
      return InvalidArgument("writer: camera '" + c.name + "' size " + std::to_string(c.height) + "x" +
                             std::to_string(c.width) + " must be positive and even");
    if (c.name.empty() || c.name.find('/') != std::string::npos || !cam_names.insert(c.name).second)
      return InvalidArgument("writer: camera name '" + c.name + "' empty, duplicated or containing '/'");
  }
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_empty(root, ec))
    return FailedPrecondition(root + ": exists and is not empty (use Resume to continue a dataset)");
  fs::create_directories(fs::path(root) / "meta", ec);
  if (ec) return IoError(root + ": cannot create (" + ec.message() + ")");
  std::unique_ptr<DatasetWriter> w(new DatasetWriter());
  w->root_ = root;
  w->options_ = options;
  DatasetInfo& info = w->info_;
  info.codebase_version = std::string(kCodebaseVersion);
  info.fps = spec.fps;
  info.robot_type = spec.robot_type;
  info.features = RobotFeatures(spec.state_names, spec.action_names, spec.cameras);
  info.chunks_size = options.chunks_size;
  info.data_files_size_in_mb = options.data_files_size_in_mb;
  info.video_files_size_in_mb = options.video_files_size_in_mb;
  info.data_path = std::string(kDataPathTemplate);
  info.video_path = spec.cameras.empty() ? "" : std::string(kVideoPathTemplate);
  State& s = *w->state_;
  EMBODY_TRY(SetUpSchema(info, options, &s.state_dim, &s.action_dim, &s.camera_keys, &s.workers));
  s.videos.resize(s.camera_keys.size());
  EMBODY_ASSIGN_OR_RETURN(s.data_rows, EmptyDataTable(info));
  EMBODY_TRY(WriteJsonAtomic((fs::path(root) / kInfoPath).string(), InfoToJson(info)));
  return w;
}

Result<std::unique_ptr<DatasetWriter>> DatasetWriter::Resume(const std::string& root, const WriterOptions& options) {
  const fs::path r(root);
  EMBODY_ASSIGN_OR_RETURN(DatasetInfo info, ReadInfo((r / kInfoPath).string()));
  if (info.is_v21()) return Unimplemented(root + ": resuming a v2.1 dataset; convert it to v3.0 first");
  std::unique_ptr<DatasetWriter> w(new DatasetWriter());
  w->root_ = root;
  w->options_ = options;
  w->info_ = info;
  State& s = *w->state_;
  EMBODY_TRY(SetUpSchema(info, options, &s.state_dim, &s.action_dim, &s.camera_keys, &s.workers));
  s.videos.resize(s.camera_keys.size());
  EMBODY_ASSIGN_OR_RETURN(s.data_rows, EmptyDataTable(info));
  std::error_code ec;
  fs::remove_all(r / kStagingDir, ec);

  // Committed episodes: the first total_episodes rows of meta/episodes (info.json is written
  // last, so anything past it is a crash's leftover).
  std::vector<std::string> ep_files;
  if (fs::is_directory(r / "meta/episodes", ec))
    for (const auto& e : fs::recursive_directory_iterator(r / "meta/episodes", ec))
      if (e.path().extension() == ".parquet") ep_files.push_back(e.path().string());
  std::sort(ep_files.begin(), ep_files.end());
  const int64_t committed = info.total_episodes;
  int64_t seen = 0;
  std::vector<StatsMap> ep_stats;
  int64_t last_data_chunk = -1, last_data_file = -1, last_to = 0, last_ep_chunk = 0, last_ep_file = -1;
  std::vector<std::pair<int64_t, int64_t>> last_video(s.camera_keys.size(), {-1, -1});
  for (const std::string& f : ep_files) {
    if (seen >= committed) {  // wholly past the committed episodes
      fs::remove(f, ec);
      continue;
    }
    EMBODY_ASSIGN_OR_RETURN(Table t, ReadParquet(f));
    const int64_t keep = std::min<int64_t>(t.num_rows(), committed - seen);
    auto col = [&](const std::string& name) -> Result<const Column*> {
      const Column* c = t.Find(name);
      if (!c || c->list != ListKind::kScalar) return DataLoss(f + ": column '" + name + "' missing");
      return c;
    };
    EMBODY_ASSIGN_OR_RETURN(const Column* dchunk, col("data/chunk_index"));
    EMBODY_ASSIGN_OR_RETURN(const Column* dfile, col("data/file_index"));
    EMBODY_ASSIGN_OR_RETURN(const Column* to, col("dataset_to_index"));
    for (int64_t row = 0; row < keep; ++row) {
      ep_stats.push_back(StatsFromEpisodeRow(t, row));
      last_data_chunk = static_cast<int64_t>(dchunk->number(row));
      last_data_file = static_cast<int64_t>(dfile->number(row));
      last_to = static_cast<int64_t>(to->number(row));
      for (size_t k = 0; k < s.camera_keys.size(); ++k) {
        EMBODY_ASSIGN_OR_RETURN(const Column* vc, col("videos/" + s.camera_keys[k] + "/chunk_index"));
        EMBODY_ASSIGN_OR_RETURN(const Column* vf, col("videos/" + s.camera_keys[k] + "/file_index"));
        last_video[k] = {static_cast<int64_t>(vc->number(row)), static_cast<int64_t>(vf->number(row))};
      }
    }
    const fs::path rel = fs::relative(f, r);
    // meta/episodes/chunk-XXX/file-YYY.parquet
    const std::string chunk_dir = rel.parent_path().filename().string(), file_name = rel.stem().string();
    last_ep_chunk = std::atoll(chunk_dir.substr(chunk_dir.find('-') + 1).c_str());
    last_ep_file = std::atoll(file_name.substr(file_name.find('-') + 1).c_str());
    if (keep < t.num_rows()) EMBODY_TRY(WriteParquet(f, t.Slice(0, keep)));
    seen += keep;
  }
  if (seen != committed)
    return DataLoss(root + ": info.json counts " + std::to_string(committed) + " episodes, meta/episodes has " +
                    std::to_string(seen));
  if (committed > 0 && last_to != info.total_frames)
    return DataLoss(root + ": info.json counts " + std::to_string(info.total_frames) +
                    " frames, the last episode ends at index " + std::to_string(last_to));
  // Data: drop rows and files past the last committed frame.
  std::vector<std::string> data_files;
  if (fs::is_directory(r / "data", ec))
    for (const auto& e : fs::recursive_directory_iterator(r / "data", ec))
      if (e.path().extension() == ".parquet") data_files.push_back(e.path().string());
  std::sort(data_files.begin(), data_files.end());
  const std::string last_data = committed > 0 ? (r / DataFilePath(last_data_chunk, last_data_file)).string() : "";
  bool past = committed == 0;
  for (const std::string& f : data_files) {
    if (past) {
      fs::remove(f, ec);
      continue;
    }
    if (f == last_data) {
      EMBODY_ASSIGN_OR_RETURN(Table t, ReadParquet(f));
      const Column* idx = t.Find("index");
      if (!idx || idx->list != ListKind::kScalar) return DataLoss(f + ": column 'index' missing");
      // the committed episodes' rows come first: index[0] .. last_to - 1
      const int64_t first = t.num_rows() > 0 ? static_cast<int64_t>(idx->number(0)) : 0;
      const int64_t keep = std::clamp<int64_t>(last_to - first, 0, t.num_rows());
      if (keep < t.num_rows()) EMBODY_TRY(WriteParquet(f, t.Slice(0, keep)));
      past = true;
    }
  }
  // Videos: drop files past each camera's last committed one (a tail past the last episode's
  // to_timestamp inside that file is harmless: nothing points there).
  for (size_t k = 0; k < s.camera_keys.size(); ++k) {
    const fs::path dir = r / "videos" / s.camera_keys[k];
    std::vector<std::string> files;
    if (fs::is_directory(dir, ec))
      for (const auto& e : fs::recursive_directory_iterator(dir, ec))
        if (e.path().extension() == ".mp4") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    const std::string last = committed > 0 ? (r / VideoFilePath(s.camera_keys[k], last_video[k].first,
                                                                 last_video[k].second)).string()
                                           : "";
    bool vpast = committed == 0;
    for (const std::string& f : files) {
      if (vpast) fs::remove(f, ec);
      if (f == last) vpast = true;
    }
    s.videos[k].chunk = last_video[k].first < 0 ? 0 : last_video[k].first;
    s.videos[k].file = last_video[k].second < 0 ? -1 : last_video[k].second;
    s.videos[k].fresh = true;
  }
  // Tasks and stats from what is committed.
  if (fs::exists(r / kTasksPath, ec)) {
    EMBODY_ASSIGN_OR_RETURN(Table t, ReadParquet((r / kTasksPath).string()));
    EMBODY_ASSIGN_OR_RETURN(s.tasks, ParseTasksTable(t, (r / kTasksPath).string()));
  }
  s.stats = AggregateStats(ep_stats);
  // New files for the next episode, as LeRobot's resume does.
  s.data_chunk = last_data_chunk < 0 ? 0 : last_data_chunk;
  s.data_file = last_data_file;  // -1 + 1 = 0 for an empty dataset
  s.data_fresh = true;
  s.ep_chunk = last_ep_chunk;
  s.ep_file = last_ep_file;
  s.ep_fresh = true;
  info.total_tasks = static_cast<int64_t>(s.tasks.size());
  w->info_ = info;
  if (committed > 0) EMBODY_TRY(WriteJsonAtomic((r / kStatsPath).string(), StatsToJson(s.stats)));
  EMBODY_TRY(WriteJsonAtomic((r / kInfoPath).string(), InfoToJson(w->info_)));
  return w;
}

Status DatasetWriter::BeginEpisode(const EpisodeMeta& meta) {
  State& s = *state_;
  if (s.open) return FailedPrecondition(root_ + ": BeginEpisode while episode " + std::to_string(num_episodes()) +
                                        " is open");
  s.open = true;
  s.meta = meta;
  s.states.clear();
  s.actions.clear();
  s.frames = 0;
  s.frame_error = Status::Ok();
  const fs::path staging = fs::path(root_) / kStagingDir;
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return IoError(staging.string() + ": " + ec.message());
  for (size_t k = 0; k < s.workers.size(); ++k)
    s.workers[k]->Begin((staging / (s.camera_keys[k] + ".mp4")).string());
  return Status::Ok();
}

Status DatasetWriter::AddFrame(const FrameInput& f) {
  State& s = *state_;
  if (!s.open) return FailedPrecondition(root_ + ": AddFrame without BeginEpisode");
  if ((s.state_dim && !f.state) || !f.action || f.images.size() != s.workers.size())
    return InvalidArgument(root_ + ": frame " + std::to_string(s.frames) + " of episode " +
                           std::to_string(num_episodes()) + ": needs state, action and " +
                           std::to_string(s.workers.size()) + " images, got " + std::to_string(f.images.size()));
  for (size_t k = 0; k < f.images.size(); ++k) {
    if (!f.images[k]) return InvalidArgument(root_ + ": frame " + std::to_string(s.frames) + ": image '" +
                                             s.camera_keys[k] + "' is null");
    Status st = s.workers[k]->Push(f.images[k]);
    if (!st.ok()) {
      if (s.frame_error.ok()) s.frame_error = st;
      return st;
    }
  }
  if (s.state_dim) s.states.insert(s.states.end(), f.state, f.state + s.state_dim);
  s.actions.insert(s.actions.end(), f.action, f.action + s.action_dim);
  ++s.frames;
  return Status::Ok();
}

void DatasetWriter::SetEpisodeSuccess(int success) {
  if (state_->open) state_->meta.success = success;
}

void DatasetWriter::DiscardEpisode() {
  State& s = *state_;
  if (!s.open) return;
  for (auto& w : s.workers) w->Abort();
  s.open = false;
  std::error_code ec;
  fs::remove_all(fs::path(root_) / kStagingDir, ec);
}

Result<EpisodeSummary> DatasetWriter::EndEpisode() {
  State& s = *state_;
  if (!s.open) return FailedPrecondition(root_ + ": EndEpisode without BeginEpisode");
  Stopwatch sw;
  EpisodeSummary summary;
  Status st = CommitEpisode(&summary);
  s.open = false;
  std::error_code ec;
  fs::remove_all(fs::path(root_) / kStagingDir, ec);
  if (!st.ok()) {
    for (auto& w : s.workers) w->Abort();
    // A failed commit may have left a video file with this episode appended: never append to it.
    for (auto& v : s.videos) v.fresh = true;
    return st.WithContext("episode " + std::to_string(num_episodes()) + " not saved");
  }
  summary.commit_ms = sw.ElapsedMs();
  return summary;
}

Status DatasetWriter::CommitEpisode(EpisodeSummary* summary) {
  State& s = *state_;
  const fs::path root(root_);
  const int64_t ep = info_.total_episodes, n = s.frames, from = info_.total_frames;
  EMBODY_TRY(s.frame_error);
  if (n == 0) return InvalidArgument("an episode needs at least one frame");

  // 1. videos: wait for the encoders
  StatsMap stats;
  std::vector<std::string> staged;
  for (size_t k = 0; k < s.workers.size(); ++k) {
    int64_t frames = 0;
    FeatureStats img;
    EMBODY_TRY_CTX(s.workers[k]->Finish(&frames, &img), s.camera_keys[k]);
    if (frames != n)
      return DataLoss(s.camera_keys[k] + ": encoded " + std::to_string(frames) + " frames, the episode has " +
                      std::to_string(n));
    stats[s.camera_keys[k]] = img;
    if (s.encoder.empty()) s.encoder = s.workers[k]->encoder_name();
    staged.push_back((root / kStagingDir / (s.camera_keys[k] + ".mp4")).string());
  }

  // 2. task
  int64_t task_index = -1;
  for (size_t i = 0; i < s.tasks.size(); ++i)
    if (s.tasks[i] == s.meta.task) task_index = static_cast<int64_t>(i);
  std::vector<std::string> tasks = s.tasks;
  if (task_index < 0) {
    task_index = static_cast<int64_t>(tasks.size());
    tasks.push_back(s.meta.task);
  }

  // 3. data rows and their stats
  Table rows;
  EMBODY_ASSIGN_OR_RETURN(rows, EmptyDataTable(info_));
  std::vector<double> ts(static_cast<size_t>(n)), fi(static_cast<size_t>(n)), ei(static_cast<size_t>(n), static_cast<double>(ep)),
      gi(static_cast<size_t>(n)), ti(static_cast<size_t>(n), static_cast<double>(task_index));
  for (int64_t i = 0; i < n; ++i) {
    ts[static_cast<size_t>(i)] = static_cast<double>(static_cast<float>(static_cast<double>(i) / info_.fps));
    fi[static_cast<size_t>(i)] = static_cast<double>(i);
    gi[static_cast<size_t>(i)] = static_cast<double>(from + i);
  }
  for (Column& c : rows.columns) {
    if (c.name == "action" || c.name == "observation.state") {
      const std::vector<float>& v = c.name == "action" ? s.actions : s.states;
      const int64_t dim = c.name == "action" ? s.action_dim : s.state_dim;
      std::vector<double> d(v.begin(), v.end());
      for (int64_t i = 0; i < n; ++i) c.AppendNumbers(v.data() + i * dim, dim);
      stats[c.name] = ComputeVectorStats(d.data(), n, dim);
      continue;
    }
    const std::vector<double>* src = c.name == "timestamp" ? &ts : c.name == "frame_index" ? &fi
                                     : c.name == "episode_index" ? &ei : c.name == "index" ? &gi : &ti;
    for (int64_t i = 0; i < n; ++i) c.AppendDouble((*src)[static_cast<size_t>(i)]);
    stats[c.name] = ComputeVectorStats(src->data(), n, 1);
  }

  // 4. data file: rewrite the current file with this episode appended (or start the next one)
  int64_t dchunk = s.data_chunk, dfile = s.data_file;
  bool new_data = s.data_fresh;
  if (!new_data) {
    const double mb = FileMb((root / DataFilePath(dchunk, dfile)).string());
    const int64_t in_file = s.data_rows.num_rows();
    if (in_file > 0 && mb + mb / static_cast<double>(in_file) * static_cast<double>(n) >=
                           static_cast<double>(info_.data_files_size_in_mb))
      new_data = true;
  }
  Table data = s.data_rows;
  std::vector<int64_t> groups = s.data_groups;
  if (new_data) {
    if (s.data_file >= 0 || s.data_rows.num_rows() > 0) NextChunkFile(info_.chunks_size, &dchunk, &dfile);
    if (dfile < 0) dfile = 0;
    EMBODY_ASSIGN_OR_RETURN(data, EmptyDataTable(info_));
    groups.clear();
  }
  EMBODY_TRY(data.AppendRows(rows, 0, n));
  groups.push_back(n);
  EMBODY_TRY(WriteParquet((root / DataFilePath(dchunk, dfile)).string(), data, {.row_groups = groups}));

  // 5. videos: concatenate onto the camera's current file, or start its next file
  std::vector<State::Video> videos = s.videos;
  std::vector<double> from_s(videos.size()), to_s(videos.size());
  for (size_t k = 0; k < videos.size(); ++k) {
    State::Video& v = videos[k];
    const std::string cur = (root / VideoFilePath(s.camera_keys[k], v.chunk, std::max<int64_t>(v.file, 0))).string();
    bool start_new = v.fresh || v.file < 0;
    if (!start_new && FileMb(cur) + FileMb(staged[k]) >= static_cast<double>(info_.video_files_size_in_mb))
      start_new = true;
    if (start_new) {
      if (v.file >= 0) NextChunkFile(info_.chunks_size, &v.chunk, &v.file);
      else v.file = 0;
      v.frames_in_file = 0;
      const fs::path dst = root / VideoFilePath(s.camera_keys[k], v.chunk, v.file);
      std::error_code ec;
      fs::create_directories(dst.parent_path(), ec);
      fs::rename(staged[k], dst, ec);
      if (ec) return IoError(dst.string() + ": cannot move the episode video (" + ec.message() + ")");
    } else {
      EMBODY_TRY(ConcatVideos({cur, staged[k]}, cur));
    }
    v.fresh = false;
    // from/to from integer frame counts: no float drift over long files
    from_s[k] = static_cast<double>(v.frames_in_file) / info_.fps;
    v.frames_in_file += n;
    to_s[k] = static_cast<double>(v.frames_in_file) / info_.fps;
  }

  // 6. tasks
  if (tasks.size() != s.tasks.size())
    EMBODY_TRY(WriteParquet((root / kTasksPath).string(), TasksTable(tasks)));

  // 7. episode row
  int64_t echunk = s.ep_chunk, efile = s.ep_file;
  bool new_ep_file = s.ep_fresh;
  if (!new_ep_file && FileMb((root / EpisodesFilePath(echunk, efile)).string()) >=
                          static_cast<double>(info_.data_files_size_in_mb))
    new_ep_file = true;
  Table eps = new_ep_file ? Table{} : s.ep_rows;
  if (new_ep_file) {
    if (efile >= 0 || s.ep_rows.num_rows() > 0) NextChunkFile(info_.chunks_size, &echunk, &efile);
    if (efile < 0) efile = 0;
  }
  {
    Table row;
    auto i64 = [&](const std::string& name, int64_t v) {
      Column c = ScalarColumn(name, ValueType::kInt64);
      c.AppendInt64(v);
      row.columns.push_back(std::move(c));
    };
    auto f64 = [&](const std::string& name, double v) {
      Column c = ScalarColumn(name, ValueType::kFloat64);
      c.AppendDouble(v);
      row.columns.push_back(std::move(c));
    };
    i64("episode_index", ep);
    Column tc = VariableListColumn("tasks", ValueType::kString);
    tc.AppendStrings({s.meta.task});
    row.columns.push_back(std::move(tc));
    i64("length", n);
    i64("data/chunk_index", dchunk);
    i64("data/file_index", dfile);
    i64("dataset_from_index", from);
    i64("dataset_to_index", from + n);
    for (size_t k = 0; k < videos.size(); ++k) {
      const std::string p = "videos/" + s.camera_keys[k] + "/";
      i64(p + "chunk_index", videos[k].chunk);
      i64(p + "file_index", videos[k].file);
      f64(p + "from_timestamp", from_s[k]);
      f64(p + "to_timestamp", to_s[k]);
    }
    std::vector<std::string> order;
    for (const Feature& f : info_.features) order.push_back(f.name);
    EMBODY_TRY(AppendStatsColumns(stats, order, &row));
    i64("meta/episodes/chunk_index", echunk);
    i64("meta/episodes/file_index", efile);
    i64(std::string(kEpisodeClusterColumn), s.meta.cluster);
    Column rc = ScalarColumn(std::string(kEpisodeRecoveryColumn), ValueType::kBool);
    rc.AppendDouble(s.meta.recovery ? 1 : 0);
    row.columns.push_back(std::move(rc));
    Column sc = ScalarColumn(std::string(kEpisodeSplitColumn), ValueType::kString);
    sc.AppendString(s.meta.split);
    row.columns.push_back(std::move(sc));
    i64(std::string(kEpisodeSuccessColumn), s.meta.success);
    EMBODY_TRY(eps.AppendRows(row, 0, 1));
  }
  EMBODY_TRY(WriteParquet((root / EpisodesFilePath(echunk, efile)).string(), eps));

  // 8. stats.json, then info.json: the commit point
  StatsMap agg = ep == 0 ? stats : AggregateStats({s.stats, stats});
  DatasetInfo info = info_;
  info.total_episodes = ep + 1;
  info.total_frames = from + n;
  info.total_tasks = static_cast<int64_t>(tasks.size());
  if (ep == 0 || info.video_keys().size() != videos.size() ||
      [&] {
        for (const Feature& f : info.features)
          if (f.is_video() && f.info.is_null()) return true;
        return false;
      }()) {
    for (Feature& f : info.features) {
      if (!f.is_video() || !f.info.is_null()) continue;
      for (size_t k = 0; k < videos.size(); ++k) {
        if (s.camera_keys[k] != f.name) continue;
        auto vi = ProbeVideo((root / VideoFilePath(f.name, videos[k].chunk, videos[k].file)).string());
        if (!vi.ok()) return vi.status();
        f.info = {{"video.height", vi->height}, {"video.width", vi->width}, {"video.codec", vi->codec},
                  {"video.pix_fmt", vi->pix_fmt}, {"video.is_depth_map", false}, {"video.fps", info.fps},
                  {"video.channels", 3}, {"has_audio", false}};
      }
    }
  }
  EMBODY_TRY(WriteJsonAtomic((root / kStatsPath).string(), StatsToJson(agg)));
  EMBODY_TRY(WriteJsonAtomic((root / kInfoPath).string(), InfoToJson(info)));

  // committed: update the in-memory state
  info_ = info;
  s.stats = std::move(agg);
  s.tasks = std::move(tasks);
  s.data_rows = std::move(data);
  s.data_groups = std::move(groups);
  s.data_chunk = dchunk;
  s.data_file = dfile;
  s.data_fresh = false;
  s.ep_rows = std::move(eps);
  s.ep_chunk = echunk;
  s.ep_file = efile;
  s.ep_fresh = false;
  s.videos = std::move(videos);
  summary->episode_index = ep;
  summary->frames = n;
  return Status::Ok();
}

Status DatasetWriter::Close() {
  DiscardEpisode();
  state_->workers.clear();
  return Status::Ok();
}

}  // namespace embody::data
