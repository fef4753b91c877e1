// Train/validation/test split by workspace cluster (`embody dataset split`), as in the study:
// the held-out cluster's episodes are validation, the others training, and the evaluation list
// holds 2 positions per training cluster (cluster, seed) that no recorded episode used.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "data/reader.h"
#include "io/json_file.h"

namespace embody::data {

struct SplitOptions {
  int val_cluster = 6;
  int test_per_cluster = 2;
  uint64_t test_seed_base = 1000000;  // evaluation seeds: base + cluster * 100 + k
};

struct SplitResult {
  std::vector<int64_t> train, val;     // episode indices
  struct TestPosition {
    int cluster = 0;
    uint64_t seed = 0;
  };
  std::vector<TestPosition> test;
  std::vector<int64_t> unknown_cluster;  // episodes without a cluster (left out of both)
  io::Json ToJson() const;
};

Result<SplitResult> ComputeSplit(const Dataset& dataset, const SplitOptions& options);

// Writes the split into the dataset: the embody/split column of meta/episodes (every file
// rewritten atomically, other columns untouched) and meta/embody_split.json (the lists).
Status WriteSplit(const std::string& root, const SplitResult& split);

}  // namespace embody::data
