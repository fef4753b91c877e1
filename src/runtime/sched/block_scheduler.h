// BlockScheduler: runs a policy's blocks (a task graph) on executors, critical path first, and
// learns the blocks' latencies as it goes (issue 6).
//
// Each inference is one Run(). Planning is list scheduling in the HEFT manner:
//   * every block has an estimated latency per executor: the moving average of what it measured
//     there, else what it measured on another executor scaled by thread count, else a prior;
//     an executor's estimate relaxes towards the others' while the block runs elsewhere, so a
//     core that was busy once is tried again;
//   * a block's priority is its upward rank: its own mean estimate plus the longest chain of
//     estimates after it to the end of the graph. The highest ranks form the critical path;
//   * in order of rank, each block goes to the executor where it would finish first (executor
//     free, inputs done), among the executors whose kind it supports or the one it is pinned to.
// Execution follows the plan's placement; a block is submitted when its inputs are done and an
// executor runs its queue by rank. Every block's wall time is measured and feeds the estimates,
// so placement and priorities follow the machine (another process taking a core, thermal
// throttling). T_inference of the run is the makespan, measured too.
//
// Blocks that share mutable state (one model's scratch) must be ordered by dependencies or placed
// on the same executor: the scheduler never runs two blocks of one executor at once, and nothing
// else stops two blocks from running together.
//
// Thread safety: Run() from one thread at a time. The executors may be shared with other users.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/sched/executor.h"

namespace embody::runtime::sched {

struct ExecContext {
  int executor = 0;  // index in the scheduler's executor list
  int threads = 1;   // that executor's thread count
  ExecutorKind kind = ExecutorKind::kCpu;
};

struct BlockTask {
  std::string name;                 // "vision.0", "llm", "expert", "backbone.1", ...
  std::vector<int> deps;            // blocks (indices) whose outputs this one reads
  std::function<Status(const ExecContext&)> run;  // may throw: reported as an error
  uint32_t kinds = static_cast<uint32_t>(ExecutorKind::kCpu);  // executor kinds that can run it
  int pin = -1;                     // >= 0: always this executor
  std::vector<int> allowed;         // non-empty: only these executors (where its ops were built)
  // Runs with every CPU executor's threads on all their CPUs (ScopedWiden). Only for a block
  // nothing else can overlap (e.g. the last block, depending on all others).
  bool all_cores = false;
  double prior_ms = 1;              // estimate before any measurement
};

struct BlockRecord {
  std::string name;
  int executor = -1;       // -1: skipped this run
  double start_ms = 0;     // from the run's start
  double ms = 0;           // measured wall time
  double estimate_ms = 0;  // what the plan expected
  double rank_ms = 0;      // upward rank (priority)
};

struct RunReport {
  std::vector<BlockRecord> blocks;  // graph order
  double makespan_ms = 0;           // T_inference of this run (first submit to last block done)
  double planned_ms = 0;            // the plan's predicted makespan
  std::vector<std::string> critical_path;  // names, following the highest ranks
};

class BlockScheduler {
 public:
  // REQUIRES: executors outlive the scheduler; deps refer to earlier blocks (a DAG in order).
  static Result<std::unique_ptr<BlockScheduler>> Create(std::vector<Executor*> executors, std::vector<BlockTask> graph,
                                                        double ema_alpha = 0.3);

  // One pass over the graph. skip[i] true: block i is not run this time (a multi-rate policy
  // reusing its last output); blocks depending on it still run. On error, every block already
  // submitted finishes first (none is left running on shared buffers), later ones are not run,
  // and the first error is returned with the block's name.
  Result<RunReport> Run(const std::vector<bool>& skip = {});

  // The plan Run() would use now (no execution): placement and ranks from current estimates.
  RunReport Plan(const std::vector<bool>& skip = {}) const;

  const std::vector<BlockTask>& graph() const { return graph_; }
  const std::vector<Executor*>& executors() const { return executors_; }
  // Current estimate of block b on executor e (ms).
  double Estimate(int block, int executor) const;
  // Moving average of the makespan of runs without skips, and of all runs.
  double full_ema_ms() const { return full_ema_ms_; }
  double ema_ms() const { return ema_ms_; }
  int runs() const { return runs_; }

 private:
  BlockScheduler() = default;
  bool CanRun(int block, int executor) const;

  std::vector<Executor*> executors_;
  std::vector<BlockTask> graph_;
  std::vector<std::vector<int>> successors_;
  double alpha_ = 0.3;
  std::vector<std::vector<double>> ema_;      // [block][executor]; < 0: never measured there
  double full_ema_ms_ = 0, ema_ms_ = 0;
  int runs_ = 0, full_runs_ = 0;
};

// A one-line description of a report: blocks with executor, start and duration, the makespan.
std::string DescribeRun(const RunReport& report, const std::vector<Executor*>& executors);

}  // namespace embody::runtime::sched
