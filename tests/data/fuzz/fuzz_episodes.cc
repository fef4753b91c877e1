// libFuzzer target: Parquet bytes through data::ParquetFile (Arrow) and the episode-metadata
// parsing on top (tasks table, stats columns).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "data/episodes_table.h"
#include "data/parquet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/embody_fuzz_episodes_" + std::to_string(getpid()) + ".parquet";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto pf = embody::data::ParquetFile::Open(path);
  if (pf.ok()) {
    auto t = (*pf)->Read();
    if (t.ok()) {
      (void)embody::data::ParseTasksTable(*t, path);
      for (int64_t r = 0; r < t->num_rows() && r < 4; ++r) (void)embody::data::StatsFromEpisodeRow(*t, r);
    }
  }
  std::remove(path.c_str());
  return 0;
}
