// The SmolVLA side of `embody info`, `infer` and `bench`.
#pragma once

#include <string>
#include <vector>

namespace embody::cli {

struct SmolVlaInferArgs {
  std::string checkpoint, task, state, tokenizer, backend = "onednn", position_ids = "exact", plan;
  bool truncate_task = false;
  std::vector<std::string> images;
  bool seeded_inputs = false, json = false, normalized = false;
  int step = 0, threads = 0;
  uint64_t noise_seed = 0;
};
struct SmolVlaBenchArgs {
  std::string checkpoint, task = "put the tea bag in the mug", tokenizer, backend = "onednn", position_ids = "exact", plan;
  int height = 0, width = 0, threads = 0, runs = 3, warmup = 1;
  bool json = false;
};

int RunInfoSmolVla(const std::string& checkpoint, bool json);
int RunInferSmolVla(const SmolVlaInferArgs& a);
int RunBenchSmolVla(const SmolVlaBenchArgs& a);

}  // namespace embody::cli
