#include "runtime/async/async_inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>

namespace embody::runtime {

namespace {
MonitorOptions MonitorFor(const Policy& policy, const AsyncOptions& o) {
  MonitorOptions m;
  m.period_ms = o.period_ms;
  m.chunk_size = policy.chunk_size();
  return m;
}
}  // namespace

AsyncInference::AsyncInference(Policy& policy, ActionQueue& queue, Observe observe, const AsyncOptions& options)
    : policy_(policy),
      queue_(queue),
      observe_(std::move(observe)),
      options_(options),
      chunk_(static_cast<size_t>(policy.chunk_size()) * policy.action_dim()),
      threshold_(options.threshold),
      monitor_(MonitorFor(policy, options)) {}

AsyncInference::~AsyncInference() { Stop(); }

void AsyncInference::Start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { Loop(); });
}

void AsyncInference::Stop() {
  running_ = false;
  queue_.Close();
  if (thread_.joinable()) thread_.join();
}

std::string AsyncInference::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

std::string AsyncInference::warning() const {
  std::lock_guard<std::mutex> lock(mu_);
  return monitor_.Warning(threshold_.load());
}

void AsyncInference::Loop() {
  const int chunk = policy_.chunk_size();
  PolicyObservation obs;
  while (running_.load()) {
    // wake at least every 50 ms to notice Stop() even if a Close() raced with the wait
    const int trigger = static_cast<int>(std::floor(threshold_.load() * chunk + 1e-9));
    if (!queue_.WaitUntilAtMost(trigger, std::chrono::milliseconds(50)) || !running_.load()) continue;
    const int queued = queue_.size();
    obs.timestep = std::max<int64_t>(queue_.latest_executed(), 0);
    Status s;
    const auto start = std::chrono::steady_clock::now();
    try {
      s = observe_(&obs);
      if (s.ok()) {
        policy_.SetLatencyBudget(queued * options_.period_ms);  // T_execution of what is queued
        s = policy_.PredictChunk(obs, chunk_.data());
      }
    } catch (const std::exception& e) {
      s = Internal(std::string("policy threw: ") + e.what());
    } catch (...) {
      s = Internal("policy threw a non-standard exception");
    }
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = s.ToString();
      failed_ = true;
      running_ = false;
      return;
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    (void)queue_.Merge(obs.timestep, chunk_.data(), chunk, options_.merge);
    ++inferences_;
    std::lock_guard<std::mutex> lock(mu_);
    if (monitor_.Record(ms, queued) && inferences_.load() > 1) ++late_;
    if (options_.adaptive_threshold) threshold_ = monitor_.SuggestThreshold(threshold_.load());
  }
}

}  // namespace embody::runtime
