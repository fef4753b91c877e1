// On-disk constants of LeRobot's dataset format, shared by the reader and the writer: versions,
// paths and their templates, default features. The prose spec is docs/dataset.md and
// ../shared/reference/lerobot-data-async-robots.md (section 1); LeRobot 0.4.4's
// lerobot/datasets/utils.py is the code these mirror.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace embody::data {

inline constexpr std::string_view kCodebaseVersion = "v3.0";  // what we write
inline constexpr std::string_view kCodebaseVersionV21 = "v2.1";  // also read

inline constexpr int64_t kDefaultChunksSize = 1000;        // files per chunk-XXX directory
inline constexpr int64_t kDefaultDataFileSizeMb = 100;     // data and episodes parquet rollover
inline constexpr int64_t kDefaultVideoFileSizeMb = 200;    // per-camera mp4 rollover

inline constexpr std::string_view kInfoPath = "meta/info.json";
inline constexpr std::string_view kStatsPath = "meta/stats.json";
inline constexpr std::string_view kTasksPath = "meta/tasks.parquet";
// Python format strings stored in info.json (LeRobot formats them; we do too).
inline constexpr std::string_view kDataPathTemplate = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
inline constexpr std::string_view kVideoPathTemplate =
    "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4";
// v2.1
inline constexpr std::string_view kEpisodesJsonlPath = "meta/episodes.jsonl";
inline constexpr std::string_view kEpisodesStatsJsonlPath = "meta/episodes_stats.jsonl";
inline constexpr std::string_view kTasksJsonlPath = "meta/tasks.jsonl";

// The five columns LeRobot appends after the user's features, in this order.
inline constexpr std::array<std::string_view, 5> kDefaultFeatures = {"timestamp", "frame_index", "episode_index",
                                                                      "index", "task_index"};

// Extra per-episode columns embody adds to meta/episodes (LeRobot keeps unknown columns and
// ignores them): the workspace cluster, whether the episode is a recovery demonstration, and
// its split ("train", "val", "test" or empty).
inline constexpr std::string_view kEpisodeClusterColumn = "embody/cluster";
inline constexpr std::string_view kEpisodeRecoveryColumn = "embody/recovery";
inline constexpr std::string_view kEpisodeSplitColumn = "embody/split";
inline constexpr std::string_view kEpisodeSuccessColumn = "embody/success";

// Where the writer keeps the current episode's videos until it is committed. Under images/,
// which LeRobot uses for its own staging and never uploads.
inline constexpr std::string_view kStagingDir = "images/.embody-staging";

// chunk-XXX/file-YYY relative paths.
std::string DataFilePath(int64_t chunk, int64_t file);
std::string EpisodesFilePath(int64_t chunk, int64_t file);
std::string VideoFilePath(std::string_view video_key, int64_t chunk, int64_t file);
// Formats a LeRobot path template ({chunk_index:03d}, {file_index:03d}, {video_key},
// {episode_chunk:03d}, {episode_index:06d}); unknown fields are left as they are.
std::string FormatPathTemplate(std::string_view tmpl, std::string_view video_key, int64_t chunk, int64_t file,
                               int64_t episode_chunk = 0, int64_t episode_index = 0);
// (chunk, file) after (chunk, file): file + 1, or the next chunk's file 0 at chunks_size.
void NextChunkFile(int64_t chunks_size, int64_t* chunk, int64_t* file);

}  // namespace embody::data
