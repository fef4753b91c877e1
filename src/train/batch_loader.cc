#include "train/batch_loader.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace embody::train {

namespace {

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Fisher-Yates with our own generator (std::shuffle's result differs between libraries).
std::vector<int64_t> EpochPermutation(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  uint64_t s = seed * 0xD1B54A32D192ED03ull + static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(SplitMix(s) % static_cast<uint64_t>(i + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

}  // namespace

std::vector<int64_t> BatchFrames(int64_t num_frames, int batch_size, uint64_t seed, int64_t step) {
  std::vector<int64_t> out;
  if (num_frames <= 0) return out;
  int64_t pos = step * batch_size;
  int64_t epoch = -1;
  std::vector<int64_t> perm;
  for (int i = 0; i < batch_size; ++i, ++pos) {
    const int64_t e = pos / num_frames;
    if (e != epoch) {
      perm = EpochPermutation(num_frames, seed, e);
      epoch = e;
    }
    out.push_back(perm[static_cast<size_t>(pos % num_frames)]);
  }
  return out;
}

BatchLoader::BatchLoader(const TrainSource& source, const LoaderOptions& options)
    : source_(source), options_(options), next_claim_(options.first_step), next_deliver_(options.first_step) {
  for (int i = 0; i < std::max(options_.workers, 1); ++i) threads_.emplace_back([this] { Work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Status GatherFrames(const TrainSource& source, std::vector<int64_t> frames, int chunk, const std::string& what,
                    Batch* b) {
  const TrainFeatures& f = source.features();
  const int B = static_cast<int>(frames.size());
  b->size = B;
  b->frames = std::move(frames);
  const size_t img = f.cameras.size() * static_cast<size_t>(f.height) * static_cast<size_t>(f.width) * 3;
  b->images.resize(img * static_cast<size_t>(B));
  b->state.resize(static_cast<size_t>(B) * static_cast<size_t>(f.state_dim));
  b->env_state.resize(static_cast<size_t>(B) * static_cast<size_t>(f.env_state_dim));
  b->actions.resize(static_cast<size_t>(B) * static_cast<size_t>(chunk) * static_cast<size_t>(f.action_dim));
  b->action_is_pad.resize(static_cast<size_t>(B) * static_cast<size_t>(chunk));
  b->tasks.resize(static_cast<size_t>(B));
  TrainSample s;
  for (int i = 0; i < B; ++i) {
    const int64_t frame = b->frames[static_cast<size_t>(i)];
    EMBODY_TRY_CTX(source.Get(frame, chunk, &s), what + ", frame " + std::to_string(frame));
    if (s.images.size() != img || s.state.size() != static_cast<size_t>(f.state_dim) ||
        s.env_state.size() != static_cast<size_t>(f.env_state_dim) ||
        s.actions.size() != static_cast<size_t>(chunk) * static_cast<size_t>(f.action_dim))
      return Internal(source.description() + ": frame " + std::to_string(frame) + " has the wrong size");
    std::copy(s.images.begin(), s.images.end(), b->images.begin() + static_cast<std::ptrdiff_t>(img * i));
    std::copy(s.state.begin(), s.state.end(), b->state.begin() + static_cast<std::ptrdiff_t>(f.state_dim) * i);
    std::copy(s.env_state.begin(), s.env_state.end(),
              b->env_state.begin() + static_cast<std::ptrdiff_t>(f.env_state_dim) * i);
    std::copy(s.actions.begin(), s.actions.end(),
              b->actions.begin() + static_cast<std::ptrdiff_t>(chunk) * f.action_dim * i);
    std::copy(s.action_is_pad.begin(), s.action_is_pad.end(),
              b->action_is_pad.begin() + static_cast<std::ptrdiff_t>(chunk) * i);
    b->tasks[static_cast<size_t>(i)] = s.task;
  }
  return Status::Ok();
}

Status BatchLoader::Fill(int64_t step, Batch* b) const {
  b->step = step;
  return GatherFrames(source_, BatchFrames(source_.num_frames(), options_.batch_size, options_.seed, step),
                      options_.chunk, "batch " + std::to_string(step), b);
}

void BatchLoader::Work() {
  for (;;) {
    int64_t step;
    {
      std::unique_lock<std::mutex> lock(mu_);
      space_cv_.wait(lock, [&] { return stop_ || next_claim_ < next_deliver_ + options_.prefetch; });
      if (stop_) return;
      step = next_claim_++;
    }
    Batch b;
    Status s = Fill(step, &b);
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_.emplace(step, std::make_pair(std::move(s), std::move(b)));
    }
    ready_cv_.notify_all();
  }
}

Status BatchLoader::Next(Batch* out) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  ready_cv_.wait(lock, [&] { return done_.count(next_deliver_) > 0; });
  auto node = done_.extract(next_deliver_);
  ++next_deliver_;
  lock.unlock();
  space_cv_.notify_all();
  wait_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!node.mapped().first.ok()) return node.mapped().first;
  *out = std::move(node.mapped().second);
  return Status::Ok();
}

}  // namespace embody::train
