#include "runtime/sched/block_scheduler.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>

namespace embody::runtime::sched {

namespace {
using Clock = std::chrono::steady_clock;
constexpr double kRelax = 0.1;  // per run, for estimates of executors a block did not run on
double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
}  // namespace

Result<std::unique_ptr<BlockScheduler>> BlockScheduler::Create(std::vector<Executor*> executors,
                                                               std::vector<BlockTask> graph, double ema_alpha) {
  if (executors.empty()) return InvalidArgument("scheduler: no executors");
  for (Executor* e : executors)
    if (!e) return InvalidArgument("scheduler: null executor");
  if (graph.empty()) return InvalidArgument("scheduler: empty block graph");
  if (!(ema_alpha > 0 && ema_alpha <= 1)) return InvalidArgument("scheduler: ema_alpha must be in (0, 1]");
  std::unique_ptr<BlockScheduler> s(new BlockScheduler());
  s->executors_ = std::move(executors);
  s->graph_ = std::move(graph);
  s->alpha_ = ema_alpha;
  const int n = static_cast<int>(s->graph_.size()), ne = static_cast<int>(s->executors_.size());
  s->successors_.resize(static_cast<size_t>(n));
  for (int b = 0; b < n; ++b) {
    const BlockTask& t = s->graph_[static_cast<size_t>(b)];
    if (!t.run) return InvalidArgument("scheduler: block '" + t.name + "' has nothing to run");
    if (t.pin >= ne)
      return InvalidArgument("scheduler: block '" + t.name + "' is pinned to executor " + std::to_string(t.pin) +
                             " of " + std::to_string(ne));
    for (int d : t.deps) {
      if (d < 0 || d >= b)
        return InvalidArgument("scheduler: block '" + t.name + "' depends on block " + std::to_string(d) +
                               ": dependencies must be earlier blocks");
      s->successors_[static_cast<size_t>(d)].push_back(b);
    }
    bool any = false;
    for (int e = 0; e < ne; ++e) any = any || s->CanRun(b, e);
    if (!any) return InvalidArgument("scheduler: no executor can run block '" + t.name + "'");
  }
  s->ema_.assign(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(ne), -1.0));
  return s;
}

bool BlockScheduler::CanRun(int block, int executor) const {
  const BlockTask& t = graph_[static_cast<size_t>(block)];
  if (t.pin >= 0) return t.pin == executor;
  if (!t.allowed.empty() && std::find(t.allowed.begin(), t.allowed.end(), executor) == t.allowed.end()) return false;
  return (t.kinds & static_cast<uint32_t>(executors_[static_cast<size_t>(executor)]->kind())) != 0;
}

double BlockScheduler::Estimate(int block, int executor) const {
  const auto& row = ema_[static_cast<size_t>(block)];
  if (row[static_cast<size_t>(executor)] >= 0) return std::max(row[static_cast<size_t>(executor)], 1e-3);
  // Measured elsewhere: assume the block's time scales inversely with threads (a first guess the
  // first run here corrects). Prefer the executor with the most similar thread count.
  const int want = executors_[static_cast<size_t>(executor)]->threads();
  double best = -1;
  int best_gap = 1 << 30;
  for (size_t e = 0; e < row.size(); ++e) {
    if (row[e] < 0) continue;
    const int have = executors_[e]->threads();
    const int gap = std::abs(have - want);
    if (gap < best_gap) {
      best_gap = gap;
      best = row[e] * have / want;
    }
  }
  return std::max(best >= 0 ? best : graph_[static_cast<size_t>(block)].prior_ms, 1e-3);
}

RunReport BlockScheduler::Plan(const std::vector<bool>& skip) const {
  const int n = static_cast<int>(graph_.size()), ne = static_cast<int>(executors_.size());
  auto skipped = [&](int b) { return static_cast<size_t>(b) < skip.size() && skip[static_cast<size_t>(b)]; };
  RunReport plan;
  plan.blocks.resize(static_cast<size_t>(n));
  std::vector<double> mean(static_cast<size_t>(n), 0.0), rank(static_cast<size_t>(n), 0.0);
  for (int b = 0; b < n; ++b) {
    if (skipped(b)) continue;
    int count = 0;
    for (int e = 0; e < ne; ++e)
      if (CanRun(b, e)) {
        mean[static_cast<size_t>(b)] += Estimate(b, e);
        ++count;
      }
    mean[static_cast<size_t>(b)] /= std::max(count, 1);
  }
  for (int b = n - 1; b >= 0; --b) {  // successors come later in the graph
    double tail = 0;
    for (int s : successors_[static_cast<size_t>(b)]) tail = std::max(tail, rank[static_cast<size_t>(s)]);
    rank[static_cast<size_t>(b)] = mean[static_cast<size_t>(b)] + tail;
  }
  // Rank order is topological when every estimate is positive; ties keep graph order.
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return rank[static_cast<size_t>(a)] > rank[static_cast<size_t>(b)]; });
  std::vector<double> free_at(static_cast<size_t>(ne), 0.0), finish(static_cast<size_t>(n), 0.0);
  for (int b : order) {
    BlockRecord& r = plan.blocks[static_cast<size_t>(b)];
    r.name = graph_[static_cast<size_t>(b)].name;
    r.rank_ms = rank[static_cast<size_t>(b)];
    double ready = 0;
    for (int d : graph_[static_cast<size_t>(b)].deps) ready = std::max(ready, finish[static_cast<size_t>(d)]);
    if (skipped(b)) {
      finish[static_cast<size_t>(b)] = ready;
      continue;
    }
    double best_finish = 0;
    for (int e = 0; e < ne; ++e) {
      if (!CanRun(b, e)) continue;
      const double start = std::max(ready, free_at[static_cast<size_t>(e)]);
      const double end = start + Estimate(b, e);
      if (r.executor < 0 || end < best_finish) {
        r.executor = e;
        r.start_ms = start;
        r.estimate_ms = end - start;
        best_finish = end;
      }
    }
    free_at[static_cast<size_t>(r.executor)] = best_finish;
    finish[static_cast<size_t>(b)] = best_finish;
    plan.planned_ms = std::max(plan.planned_ms, best_finish);
  }
  // The critical path: from the highest-ranked root, follow the highest-ranked successor.
  int at = -1;
  for (int b = 0; b < n; ++b)
    if (graph_[static_cast<size_t>(b)].deps.empty() && !skipped(b) &&
        (at < 0 || rank[static_cast<size_t>(b)] > rank[static_cast<size_t>(at)]))
      at = b;
  while (at >= 0) {
    if (!skipped(at)) plan.critical_path.push_back(graph_[static_cast<size_t>(at)].name);
    int next = -1;
    for (int s : successors_[static_cast<size_t>(at)])
      if (next < 0 || rank[static_cast<size_t>(s)] > rank[static_cast<size_t>(next)]) next = s;
    at = next;
  }
  return plan;
}

Result<RunReport> BlockScheduler::Run(const std::vector<bool>& skip) {
  RunReport report = Plan(skip);
  const int n = static_cast<int>(graph_.size());
  auto skipped = [&](int b) { return static_cast<size_t>(b) < skip.size() && skip[static_cast<size_t>(b)]; };

  // Shared with the executors' threads; everything below is guarded by mu. Owned jointly so the
  // mutex outlives the last block's unlock even after Run() has returned.
  struct State {
    std::mutex mu;
    std::condition_variable done_cv;
    std::vector<int> waiting;  // unfinished dependencies per block
    int in_flight = 0, remaining = 0;
    Status error;
    std::vector<double> start_ms, ms;
  };
  const auto shared = std::make_shared<State>();
  State& st = *shared;
  st.waiting.resize(static_cast<size_t>(n));
  st.start_ms.assign(static_cast<size_t>(n), 0.0);
  st.ms.assign(static_cast<size_t>(n), 0.0);
  st.remaining = n;
  for (int b = 0; b < n; ++b) st.waiting[static_cast<size_t>(b)] = static_cast<int>(graph_[static_cast<size_t>(b)].deps.size());
  const Clock::time_point t0 = Clock::now();

  // Both called with st.mu held. Finishing a block releases its successors; a skipped block
  // finishes at once. After an error nothing new is submitted, blocks are just counted off.
  std::function<void(int)> submit, finish;
  finish = [&](int b) {
    --st.remaining;
    for (int s : successors_[static_cast<size_t>(b)])
      if (--st.waiting[static_cast<size_t>(s)] == 0) submit(s);
    if (st.remaining == 0 || (st.in_flight == 0 && !st.error.ok())) st.done_cv.notify_all();
  };
  submit = [&](int b) {
    if (skipped(b) || !st.error.ok()) {
      finish(b);
      return;
    }
    const int e = report.blocks[static_cast<size_t>(b)].executor;
    Executor* ex = executors_[static_cast<size_t>(e)];
    ExecContext ctx{e, ex->threads(), ex->kind()};
    std::vector<int> wide_cpus;
    const bool wide = graph_[static_cast<size_t>(b)].all_cores && ex->kind() == ExecutorKind::kCpu;
    if (wide) {
      ctx.threads = 0;
      bool all_pinned = true;
      for (Executor* other : executors_) {
        if (other->kind() != ExecutorKind::kCpu) continue;
        ctx.threads += other->threads();
        const std::vector<int> c = other->cpus();
        all_pinned = all_pinned && !c.empty();
        wide_cpus.insert(wide_cpus.end(), c.begin(), c.end());
      }
      if (!all_pinned) wide_cpus.clear();  // some executor may run anywhere: use the process's CPUs
    }
    ++st.in_flight;
    ex->Submit(report.blocks[static_cast<size_t>(b)].rank_ms, [&, shared, b, ctx, wide, wide_cpus] {
      State& st = *shared;
      const Clock::time_point s0 = Clock::now();
      Status s;
      try {
        std::optional<ScopedWiden> widen;
        if (wide) widen.emplace(ctx.threads, wide_cpus);
        s = graph_[static_cast<size_t>(b)].run(ctx);
      } catch (const std::exception& ex) {
        s = Internal(std::string("threw: ") + ex.what());
      } catch (...) {
        s = Internal("threw a non-standard exception");
      }
      const double ms = MsSince(s0);
      std::lock_guard<std::mutex> lock(st.mu);
      st.start_ms[static_cast<size_t>(b)] = std::chrono::duration<double, std::milli>(s0 - t0).count();
      st.ms[static_cast<size_t>(b)] = ms;
      --st.in_flight;
      if (!s.ok() && st.error.ok()) st.error = s.WithContext("block " + graph_[static_cast<size_t>(b)].name);
      finish(b);
    });
  };
  {
    std::unique_lock<std::mutex> lock(st.mu);
    // roots by rank, so an idle executor starts the critical path before anything else
    std::vector<int> roots;
    for (int b = 0; b < n; ++b)
      if (graph_[static_cast<size_t>(b)].deps.empty()) roots.push_back(b);
    std::stable_sort(roots.begin(), roots.end(), [&](int x, int y) {
      return report.blocks[static_cast<size_t>(x)].rank_ms > report.blocks[static_cast<size_t>(y)].rank_ms;
    });
    for (int b : roots) submit(b);
    // Wait for every block, or after an error for the ones in flight: none may outlive `st`.
    st.done_cv.wait(lock, [&] { return st.remaining == 0 || (!st.error.ok() && st.in_flight == 0); });
  }
  report.makespan_ms = MsSince(t0);
  if (!st.error.ok()) return st.error;

  for (int b = 0; b < n; ++b) {
    BlockRecord& r = report.blocks[static_cast<size_t>(b)];
    if (skipped(b)) {
      r.executor = -1;
      continue;
    }
    r.start_ms = st.start_ms[static_cast<size_t>(b)];
    r.ms = st.ms[static_cast<size_t>(b)];
    std::vector<double>& row = ema_[static_cast<size_t>(b)];
    double& avg = row[static_cast<size_t>(r.executor)];
    avg = avg < 0 ? r.ms : alpha_ * r.ms + (1 - alpha_) * avg;
    // An executor the block avoids is never measured again, so a slow sample (another process
    // on its core) would keep it away for good: its estimate relaxes towards what this run
    // suggests (scaled by threads), and the block is tried there again once that is competitive.
    const int have = executors_[static_cast<size_t>(r.executor)]->threads();
    for (size_t e = 0; e < row.size(); ++e)
      if (static_cast<int>(e) != r.executor && row[e] >= 0)
        row[e] += kRelax * (avg * have / executors_[e]->threads() - row[e]);
  }
  const bool full = std::none_of(skip.begin(), skip.end(), [](bool v) { return v; });
  ema_ms_ = runs_++ == 0 ? report.makespan_ms : alpha_ * report.makespan_ms + (1 - alpha_) * ema_ms_;
  if (full) full_ema_ms_ = full_runs_++ == 0 ? report.makespan_ms : alpha_ * report.makespan_ms + (1 - alpha_) * full_ema_ms_;
  return report;
}

std::string DescribeRun(const RunReport& report, const std::vector<Executor*>& executors) {
  std::string out;
  char buf[160];
  for (const BlockRecord& b : report.blocks) {
    if (b.executor < 0) {
      std::snprintf(buf, sizeof(buf), "%s%s skipped", out.empty() ? "" : ", ", b.name.c_str());
    } else {
      std::snprintf(buf, sizeof(buf), "%s%s@%s %.1f+%.1f ms", out.empty() ? "" : ", ", b.name.c_str(),
                    std::string(executors[static_cast<size_t>(b.executor)]->name()).c_str(), b.start_ms, b.ms);
    }
    out += buf;
  }
  std::snprintf(buf, sizeof(buf), "; makespan %.1f ms (planned %.1f)", report.makespan_ms, report.planned_ms);
  return out + buf;
}

}  // namespace embody::runtime::sched
