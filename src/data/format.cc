#include "data/format.h"

#include <cstdio>

namespace embody::data {

namespace {
std::string Pad(int64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(v));
  return buf;
}
void ReplaceAll(std::string* s, std::string_view from, const std::string& to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size()))
    s->replace(pos, from.size(), to);
}
}  // namespace

std::string FormatPathTemplate(std::string_view tmpl, std::string_view video_key, int64_t chunk, int64_t file,
                               int64_t episode_chunk, int64_t episode_index) {
  std::string s(tmpl);
  ReplaceAll(&s, "{chunk_index:03d}", Pad(chunk, 3));
  ReplaceAll(&s, "{file_index:03d}", Pad(file, 3));
  ReplaceAll(&s, "{video_key}", std::string(video_key));
  ReplaceAll(&s, "{episode_chunk:03d}", Pad(episode_chunk, 3));
  ReplaceAll(&s, "{episode_index:06d}", Pad(episode_index, 6));
  return s;
}

std::string DataFilePath(int64_t chunk, int64_t file) { return FormatPathTemplate(kDataPathTemplate, "", chunk, file); }
std::string EpisodesFilePath(int64_t chunk, int64_t file) {
  return "meta/episodes/chunk-" + Pad(chunk, 3) + "/file-" + Pad(file, 3) + ".parquet";
}
std::string VideoFilePath(std::string_view video_key, int64_t chunk, int64_t file) {
  return FormatPathTemplate(kVideoPathTemplate, video_key, chunk, file);
}

void NextChunkFile(int64_t chunks_size, int64_t* chunk, int64_t* file) {
  if (*file >= chunks_size - 1) {
    *file = 0;
    ++*chunk;
  } else {
    ++*file;
  }
}

}  // namespace embody::data
