// libFuzzer target: the dataset reader end to end. The input is split into the files of a small
// v3.0 dataset (info.json, tasks, episodes, data parquet; the videos come from a fixed valid
// fixture), the reader opens it and reads every frame's numbers and the first image.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/reader.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path root = fs::temp_directory_path() / ("embody_fuzz_ds_" + std::to_string(getpid()));
  static const fs::path fixture = EMBODY_DATA_FIXTURE;
  // the first 4 bytes choose which file the rest replaces
  if (size < 1) return 0;
  const char* targets[] = {"meta/info.json", "meta/tasks.parquet", "meta/episodes/chunk-000/file-000.parquet",
                           "data/chunk-000/file-000.parquet", "meta/stats.json"};
  const std::string target = targets[data[0] % 5];
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::copy(fixture, root, fs::copy_options::recursive, ec);
  {
    std::ofstream out(root / target, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  auto ds = embody::data::Dataset::Open(root.string());
  if (ds.ok()) {
    const auto& d = **ds;
    for (const auto& key : d.numeric_keys())
      for (int64_t i = 0; i < d.num_frames(); ++i) (void)d.Row(key, i);
    auto r = d.NewFrameReader();
    if (d.num_frames() > 0) (void)r->Get(d.num_frames() - 1, {{{"action", {-2, 0, 3}}}, true});
  }
  fs::remove_all(root, ec);
  return 0;
}
