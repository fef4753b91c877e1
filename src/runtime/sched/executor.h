// Executor: a place where a policy's blocks run (issue 6's latency-aware scheduler).
//
// An executor runs one block at a time, highest priority first, on its own thread; a block's
// inner data parallelism uses the executor's thread count. Two executors run blocks at the same
// time, so independent blocks (one camera each) overlap. CpuExecutor is a worker thread with an
// OpenMP team of `threads` threads, optionally pinned to a CPU set. An accelerator executor (a
// GPU stream, an NPU queue) implements the same interface: kind() tells the scheduler which
// blocks it can take (BlockTask::kinds), and its blocks submit work and wait for it in run().
//
// An executor is also where a model's kernels live: oneDNN (as Debian builds it, without
// DNNL_ENABLE_CONCURRENT_EXEC) keeps a primitive's scratchpad in the creating thread's storage,
// so a primitive must run on the thread that created it. Models are therefore built on the
// executor that runs them (RunOn), and blocks are placed only where their ops were built.
//
// Thread safety: Submit() may be called from any thread; the executor runs tasks on its own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace embody::runtime::sched {

enum class ExecutorKind : uint32_t { kCpu = 1, kGpu = 2, kNpu = 4 };
std::string_view ExecutorKindName(ExecutorKind kind);

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string_view name() const = 0;
  virtual ExecutorKind kind() const = 0;
  // Threads a block on this executor may use for its own parallel loops.
  virtual int threads() const = 0;
  // Queues fn (must not throw); it runs after every queued task of higher priority (FIFO among
  // equal priorities). Never blocks the caller.
  virtual void Submit(double priority, std::function<void()> fn) = 0;
  // CPUs the executor is pinned to (empty: not pinned, or not a CPU executor).
  virtual std::vector<int> cpus() const { return {}; }
};

// While alive, lets the calling executor thread use `threads` OpenMP threads on `cpus` (empty:
// the CPUs the process may use): a block that runs alone (the last of a graph) takes every core
// instead of its executor's share. Restores the thread's affinity when it ends.
class ScopedWiden {
 public:
  ScopedWiden(int threads, const std::vector<int>& cpus);
  ~ScopedWiden();
  ScopedWiden(const ScopedWiden&) = delete;
  ScopedWiden& operator=(const ScopedWiden&) = delete;

 private:
  bool restore_ = false;
  std::vector<unsigned char> saved_;  // the thread's cpu_set_t before
};

struct CpuExecutorOptions {
  std::string name = "cpu";
  int threads = 1;        // OpenMP threads for a block's inner loops (<= 0: all available cores)
  std::vector<int> cpus;  // pin the worker (and the team it starts) to these CPUs; empty: no pinning
};

class CpuExecutor : public Executor {
 public:
  explicit CpuExecutor(CpuExecutorOptions options);
  ~CpuExecutor() override;  // finishes queued tasks, then joins
  CpuExecutor(const CpuExecutor&) = delete;
  CpuExecutor& operator=(const CpuExecutor&) = delete;

  std::string_view name() const override { return o_.name; }
  ExecutorKind kind() const override { return ExecutorKind::kCpu; }
  int threads() const override { return o_.threads; }
  void Submit(double priority, std::function<void()> fn) override;

  // Empty when pinning succeeded or was not asked for; else why it failed (the executor still
  // runs, unpinned: containers and some kernels refuse sched_setaffinity).
  std::string affinity_error() const;
  std::vector<int> cpus() const override { return o_.cpus; }

 private:
  struct Item {
    double priority;
    uint64_t seq;
    std::function<void()> fn;
    bool operator<(const Item& other) const {  // the heap's top is the largest
      return priority != other.priority ? priority < other.priority : seq > other.seq;
    }
  };
  void Loop();

  CpuExecutorOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> queue_;  // a max-heap (std::push_heap / pop_heap)
  uint64_t seq_ = 0;
  bool stop_ = false;
  std::string affinity_error_;
  std::thread thread_;  // last: starts after everything above is initialised
};

// Runs fn on the executor and waits for it (building a model on the thread that will run it).
// Exceptions become an Internal status.
Status RunOn(Executor& executor, const std::function<Status()>& fn);

// "2x1@0,1" style executor list: N executors of T threads, pinned round-robin to the listed CPUs
// ("2x1" without CPUs: unpinned). Also "1x2" (one executor of two threads). Errors name the text.
Result<std::vector<CpuExecutorOptions>> ParseCpuExecutors(std::string_view text);

}  // namespace embody::runtime::sched
