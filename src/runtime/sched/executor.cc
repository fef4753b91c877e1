#include "runtime/sched/executor.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/thread_pool.h"

namespace embody::runtime::sched {

std::string_view ExecutorKindName(ExecutorKind kind) {
  switch (kind) {
    case ExecutorKind::kCpu: return "cpu";
    case ExecutorKind::kGpu: return "gpu";
    case ExecutorKind::kNpu: return "npu";
  }
  return "?";
}

CpuExecutor::CpuExecutor(CpuExecutorOptions options) : o_(std::move(options)) {
  if (o_.threads < 1) o_.threads = AvailableCores();
  thread_ = std::thread([this] { Loop(); });
}

CpuExecutor::~CpuExecutor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CpuExecutor::Submit(double priority, std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({priority, seq_++, std::move(fn)});
    std::push_heap(queue_.begin(), queue_.end());
  }
  cv_.notify_one();
}

std::string CpuExecutor::affinity_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return affinity_error_;
}

void CpuExecutor::Loop() {
  if (!o_.cpus.empty()) {
    // Before the first parallel region: the OpenMP team this thread starts inherits the mask.
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string bad;
    for (int cpu : o_.cpus) {
      if (cpu < 0 || cpu >= CPU_SETSIZE) bad = "cpu " + std::to_string(cpu) + " out of range";
      else CPU_SET(cpu, &set);
    }
    const int rc = bad.empty() ? pthread_setaffinity_np(pthread_self(), sizeof(set), &set) : EINVAL;
    if (rc != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      std::string msg = o_.name;
      msg += ": pinning to CPU";
      for (size_t i = 0; i < o_.cpus.size(); ++i) {
        msg += i ? "," : " ";
        msg += std::to_string(o_.cpus[i]);
      }
      msg += " failed (";
      msg += bad.empty() ? std::string(std::strerror(rc)) : bad;
      msg += "; this process may use ";
      msg += std::to_string(AvailableCores());
      msg += " CPUs); running unpinned";
      affinity_error_ = std::move(msg);
    }
  }
  ThreadPool(o_.threads).BindToCallingThread();
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      std::pop_heap(queue_.begin(), queue_.end());
      fn = std::move(queue_.back().fn);
      queue_.pop_back();
    }
    fn();
    // a block may have changed this thread's OpenMP team size (models bind their own pools)
    ThreadPool(o_.threads).BindToCallingThread();
  }
}

ScopedWiden::ScopedWiden(int threads, const std::vector<int>& cpus) {
  cpu_set_t now, want;
  CPU_ZERO(&want);
  if (pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0) {
    if (cpus.empty()) {
      if (sched_getaffinity(0, sizeof(want), &want) != 0) want = now;
    } else {
      for (int c : cpus)
        if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &want);
    }
    if (CPU_COUNT(&want) > 0 && pthread_setaffinity_np(pthread_self(), sizeof(want), &want) == 0) {
      saved_.assign(reinterpret_cast<unsigned char*>(&now), reinterpret_cast<unsigned char*>(&now) + sizeof(now));
      restore_ = true;
    }
  }
  ThreadPool(threads).BindToCallingThread();
}

ScopedWiden::~ScopedWiden() {
  if (restore_) {
    cpu_set_t now;
    std::memcpy(&now, saved_.data(), sizeof(now));
    pthread_setaffinity_np(pthread_self(), sizeof(now), &now);
  }
}

Status RunOn(Executor& executor, const std::function<Status()>& fn) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status result;
  executor.Submit(1e300, [&] {
    Status s;
    try {
      s = fn();
    } catch (const std::exception& e) {
      s = Internal(std::string("threw: ") + e.what());
    } catch (...) {
      s = Internal("threw a non-standard exception");
    }
    std::lock_guard<std::mutex> lock(mu);
    result = s;
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return result;
}

Result<std::vector<CpuExecutorOptions>> ParseCpuExecutors(std::string_view text) {
  const std::string s(text);
  const auto fail = [&] {
    return InvalidArgument("executors '" + s + "': expected NxT or NxT@cpu,cpu,... (e.g. 2x1@0,1 or 1x2)");
  };
  const size_t x = s.find('x'), at = s.find('@');
  if (x == std::string::npos || x == 0) return fail();
  int n = 0, t = 0;
  try {
    size_t used = 0;
    n = std::stoi(s.substr(0, x), &used);
    if (used != x) return fail();
    const std::string ts = s.substr(x + 1, at == std::string::npos ? std::string::npos : at - x - 1);
    t = std::stoi(ts, &used);
    if (used != ts.size()) return fail();
  } catch (const std::exception&) {
    return fail();
  }
  if (n < 1 || n > 64 || t < 1 || t > 256) return fail();
  std::vector<int> cpus;
  if (at != std::string::npos) {
    std::string rest = s.substr(at + 1);
    size_t pos = 0;
    while (pos <= rest.size()) {
      const size_t comma = rest.find(',', pos);
      const std::string item = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      try {
        size_t used = 0;
        cpus.push_back(std::stoi(item, &used));
        if (used != item.size() || cpus.back() < 0) return fail();
      } catch (const std::exception&) {
        return fail();
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  std::vector<CpuExecutorOptions> out;
  for (int i = 0; i < n; ++i) {
    CpuExecutorOptions o;
    o.name = "cpu" + std::to_string(i);
    o.threads = t;
    // executor i gets t consecutive CPUs of the list, wrapping around
    for (int k = 0; k < t && !cpus.empty(); ++k) o.cpus.push_back(cpus[static_cast<size_t>(i * t + k) % cpus.size()]);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace embody::runtime::sched
