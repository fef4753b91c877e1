#include "runtime/async/action_queue.h"

#include <algorithm>
#include <cstring>

namespace embody::runtime {

ActionQueue::ActionQueue(int capacity, int action_dim)
    : capacity_(std::max(capacity, 1)),
      dim_(std::max(action_dim, 1)),
      actions_(static_cast<size_t>(capacity_) * dim_),
      next_actions_(actions_.size()),
      steps_(capacity_),
      next_steps_(capacity_),
      last_action_(dim_),
      prev_action_(dim_) {}

bool ActionQueue::Pop(float* action, int64_t* timestep) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (size_ == 0) {
      prev_action_ = last_action_;  // the robot holds: its velocity is zero (same size: no allocation)
      return false;
    }
    const float* a = &actions_[static_cast<size_t>(head_) * dim_];
    std::memcpy(action, a, sizeof(float) * dim_);
    prev_action_.swap(last_action_);
    std::memcpy(last_action_.data(), a, sizeof(float) * dim_);
    if (!have_last_) std::memcpy(prev_action_.data(), a, sizeof(float) * dim_);  // first: at rest
    have_last_ = true;
    latest_ = steps_[head_];
    if (timestep) *timestep = latest_;
    ++head_;
    --size_;
  }
  cv_.notify_all();  // an inference thread may be waiting for the trigger level
  return true;
}

int ActionQueue::IndexOf(int64_t timestep) const {
  if (size_ == 0) return -1;
  // Queued timesteps are consecutive (each merge keeps a contiguous run of one chunk), so the
  // position is an offset; the check keeps this correct even if that ever stops holding.
  const int64_t k = timestep - steps_[head_];
  if (k >= 0 && k < size_ && steps_[head_ + k] == timestep) return head_ + static_cast<int>(k);
  for (int i = head_; i < head_ + size_; ++i)
    if (steps_[i] == timestep) return i;
  return -1;
}

MergeResult ActionQueue::Merge(int64_t first_timestep, const float* chunk, int n, const MergeOptions& options) {
  MergeResult r;
  n = std::min(n, capacity_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    int out = 0;
    for (int i = 0; i < n; ++i) {
      const int64_t ts = first_timestep + i;
      if (ts <= latest_) {
        ++r.stale;
        continue;
      }
      const float* incoming = chunk + static_cast<size_t>(i) * dim_;
      float* dst = &next_actions_[static_cast<size_t>(out) * dim_];
      const int at = IndexOf(ts);
      const float* old_value = at >= 0 ? &actions_[static_cast<size_t>(at) * dim_] : nullptr;
      if (old_value) {
        Combine(options.aggregate, old_value, incoming, dim_, dst);
        ++r.aggregated;
      } else {
        std::memcpy(dst, incoming, sizeof(float) * dim_);
      }
      if (out < options.smooth_ticks && (old_value || have_last_)) {
        const float w = static_cast<float>(out + 1) / static_cast<float>(options.smooth_ticks + 1);
        const float ahead = static_cast<float>(ts - latest_);  // ticks past the last executed
        for (int d = 0; d < dim_; ++d) {
          const float ref = old_value ? old_value[d] : last_action_[d] + ahead * (last_action_[d] - prev_action_[d]);
          dst[d] = ref + w * (dst[d] - ref);
        }
      }
      next_steps_[out] = ts;
      ++out;
    }
    r.kept = out;
    r.discarded = size_ - r.aggregated;
    actions_.swap(next_actions_);
    steps_.swap(next_steps_);
    head_ = 0;
    size_ = out;
  }
  cv_.notify_all();
  return r;
}

int ActionQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

int64_t ActionQueue::latest_executed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

bool ActionQueue::WaitUntilAtMost(int n, std::chrono::nanoseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || size_ <= n; });
  return size_ <= n;
}

void ActionQueue::Reset(const float* holding) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    head_ = size_ = 0;
    latest_ = -1;
    have_last_ = holding != nullptr;
    for (int d = 0; d < dim_; ++d) last_action_[d] = prev_action_[d] = holding ? holding[d] : 0.0f;
    closed_ = false;
  }
  cv_.notify_all();
}

void ActionQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace embody::runtime
