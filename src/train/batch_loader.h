// Batches for the trainer, assembled by background worker threads (decoding video, copying
// frames) while the training thread computes, so the CPU trains instead of waiting.
//
// Sampling is LeRobot's shuffle without replacement, made a pure function of (seed, step): the
// frames are permuted once per epoch by a generator seeded with (seed, epoch), and batch k takes
// positions [k*B, (k+1)*B) of the concatenated permutations. Resuming at step k therefore sees
// exactly the batches an uninterrupted run would have seen.
//
// Thread safety: Next() from one thread; the workers are internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "train/train_source.h"

namespace embody::train {

struct Batch {
  int64_t step = 0;
  int size = 0;
  std::vector<uint8_t> images;         // [B][cameras][H][W][3]
  std::vector<float> state;            // [B][state_dim]
  std::vector<float> env_state;        // [B][env_state_dim]
  std::vector<float> actions;          // [B][chunk][action_dim]
  std::vector<uint8_t> action_is_pad;  // [B][chunk]
  std::vector<int64_t> frames;         // [B] source frame indices
  std::vector<std::string> tasks;      // [B] each frame's instruction (may be empty)
};

// Gathers `frames` of `source` (each with its next `chunk` actions) into `b`: size, frames and
// data; step is left as it is. Errors name `what` and the frame.
Status GatherFrames(const TrainSource& source, std::vector<int64_t> frames, int chunk, const std::string& what,
                    Batch* b);

struct LoaderOptions {
  int batch_size = 8;
  int chunk = 100;
  uint64_t seed = 1000;
  int64_t first_step = 0;  // resume: the first batch is batch `first_step`
  int workers = 2;         // background threads (>= 1)
  int prefetch = 4;        // batches ready ahead of the trainer
};

// The frame indices of batch `step` (exposed for tests).
std::vector<int64_t> BatchFrames(int64_t num_frames, int batch_size, uint64_t seed, int64_t step);

class BatchLoader {
 public:
  // `source` must outlive the loader.
  BatchLoader(const TrainSource& source, const LoaderOptions& options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Blocks until the next batch (in step order) is ready. An error from the source is returned
  // here, for the step that hit it.
  Status Next(Batch* out);
  // Seconds Next() spent waiting for workers so far (data-bound time).
  double wait_seconds() const { return wait_s_; }

 private:
  void Work();
  Status Fill(int64_t step, Batch* b) const;

  const TrainSource& source_;
  const LoaderOptions options_;
  std::mutex mu_;
  std::condition_variable ready_cv_, space_cv_;
  int64_t next_claim_;    // next step a worker will build
  int64_t next_deliver_;  // next step Next() returns
  bool stop_ = false;
  std::map<int64_t, std::pair<Status, Batch>> done_;
  std::vector<std::thread> threads_;
  double wait_s_ = 0;
};

}  // namespace embody::train
