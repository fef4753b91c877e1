// The block scheduler and its executors, with fake blocks: dependencies, placement, priorities,
// overlap of independent blocks, skips, errors and exceptions. Nothing here depends on timing:
// overlap is proven with a rendezvous (each block waits until the other has started), order
// with logs. Part of embody_async_tests, so CI runs it under ThreadSanitizer.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/sched/block_scheduler.h"
#include "runtime/sched/executor.h"

namespace embody::runtime::sched {
namespace {

// Two parties meet: Arrive() returns true once both arrived (false after a generous timeout,
// which only a scheduler that serialises independent blocks would hit).
class Rendezvous {
 public:
  bool Arrive() {
    std::unique_lock<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return arrived_ >= 2; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
};

class Log {
 public:
  void Add(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(s);
  }
  std::vector<std::string> items() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> items_;
};

BlockTask Task(std::string name, std::vector<int> deps, std::function<Status(const ExecContext&)> fn, double prior = 1) {
  BlockTask t;
  t.name = std::move(name);
  t.deps = std::move(deps);
  t.run = std::move(fn);
  t.prior_ms = prior;
  return t;
}

TEST(ExecutorTest, RunsByPriorityThenFifo) {
  CpuExecutor ex({"cpu0", 1, {}});
  Log log;
  std::mutex gate;
  std::unique_lock<std::mutex> hold(gate);
  // the first task blocks the executor until every other task is queued
  std::atomic<bool> started{false};
  ex.Submit(0, [&] {
    started = true;
    std::lock_guard<std::mutex> wait(gate);
    log.Add("first");
  });
  while (!started.load()) std::this_thread::yield();
  std::atomic<int> done{0};
  for (auto [p, name] : std::vector<std::pair<double, std::string>>{{1, "low"}, {5, "high"}, {1, "low2"}, {3, "mid"}})
    ex.Submit(p, [&, name = name] { log.Add(name); ++done; });
  hold.unlock();
  while (done.load() < 4) std::this_thread::yield();
  EXPECT_EQ(log.items(), (std::vector<std::string>{"first", "high", "mid", "low", "low2"}));
}

TEST(ExecutorTest, ParsesExecutorLists) {
  auto two = ParseCpuExecutors("2x1@0,1");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].cpus, std::vector<int>{0});
  EXPECT_EQ((*two)[1].cpus, std::vector<int>{1});
  EXPECT_EQ((*two)[1].threads, 1);
  auto one = ParseCpuExecutors("1x2");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].threads, 2);
  EXPECT_TRUE((*one)[0].cpus.empty());
  for (const char* bad : {"", "2", "x1", "2x", "2x0", "ax1", "2x1@", "2x1@a", "2x1@0,-1"})
    EXPECT_FALSE(ParseCpuExecutors(bad).ok()) << bad;
}

TEST(ExecutorTest, PinsWhereLinuxAllows) {
  CpuExecutor pinned({"cpu0", 1, {0}});
  std::atomic<bool> ran{false};
  pinned.Submit(0, [&] { ran = true; });
  while (!ran.load()) std::this_thread::yield();
  // CPU 0 exists everywhere; a container may still refuse, which is reported, not fatal
  EXPECT_TRUE(pinned.affinity_error().empty() || pinned.affinity_error().find("cpu0") != std::string::npos);
  CpuExecutor bad({"cpu9", 1, {100000}});
  std::atomic<bool> ran2{false};
  bad.Submit(0, [&] { ran2 = true; });
  while (!ran2.load()) std::this_thread::yield();
  EXPECT_NE(bad.affinity_error().find("out of range"), std::string::npos);
}

TEST(SchedulerTest, RejectsBadGraphs) {
  CpuExecutor ex({"cpu0", 1, {}});
  auto ok = [](const ExecContext&) { return Status::Ok(); };
  EXPECT_FALSE(BlockScheduler::Create({}, {Task("a", {}, ok)}).ok());
  EXPECT_FALSE(BlockScheduler::Create({&ex}, {}).ok());
  EXPECT_FALSE(BlockScheduler::Create({&ex}, {Task("a", {1}, ok), Task("b", {}, ok)}).ok());  // forward dep
  BlockTask pinned = Task("p", {}, ok);
  pinned.pin = 3;
  EXPECT_FALSE(BlockScheduler::Create({&ex}, {pinned}).ok());
  BlockTask gpu = Task("g", {}, ok);
  gpu.kinds = static_cast<uint32_t>(ExecutorKind::kGpu);
  auto s = BlockScheduler::Create({&ex}, {gpu});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().ToString().find("no executor can run block 'g'"), std::string::npos);
}

// Two cameras and a head: the cameras overlap on two executors, the head runs after both.
TEST(SchedulerTest, IndependentBlocksOverlapAndDependenciesHold) {
  CpuExecutor a({"a", 1, {}}), b({"b", 1, {}});
  Rendezvous meet;
  std::atomic<int> cams_done{0};
  std::atomic<bool> overlapped{true}, head_after{false};
  std::vector<BlockTask> g;
  for (int c = 0; c < 2; ++c)
    g.push_back(Task("cam." + std::to_string(c), {}, [&](const ExecContext&) {
      if (!meet.Arrive()) overlapped = false;
      ++cams_done;
      return Status::Ok();
    }, 5));
  g.push_back(Task("head", {0, 1}, [&](const ExecContext&) {
    head_after = cams_done.load() == 2;
    return Status::Ok();
  }));
  auto s = BlockScheduler::Create({&a, &b}, std::move(g));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto r = (*s)->Run();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(overlapped.load());
  EXPECT_TRUE(head_after.load());
  EXPECT_NE(r->blocks[0].executor, r->blocks[1].executor);
  EXPECT_GT(r->makespan_ms, 0);
  EXPECT_EQ(r->critical_path.size(), 2u);
  EXPECT_EQ(r->critical_path.back(), "head");
}

// One executor, two ready chains: the block heading the longer chain (critical path) runs first.
TEST(SchedulerTest, CriticalPathFirst) {
  CpuExecutor ex({"cpu0", 1, {}});
  Log log;
  auto rec = [&](std::string n) { return [&log, n](const ExecContext&) { log.Add(n); return Status::Ok(); }; };
  std::vector<BlockTask> g;
  g.push_back(Task("short", {}, rec("short"), 1));
  g.push_back(Task("long.a", {}, rec("long.a"), 1));
  g.push_back(Task("long.b", {1}, rec("long.b"), 10));
  auto s = BlockScheduler::Create({&ex}, std::move(g));
  ASSERT_TRUE(s.ok());
  const RunReport plan = (*s)->Plan();
  EXPECT_GT(plan.blocks[1].rank_ms, plan.blocks[0].rank_ms);
  EXPECT_EQ(plan.critical_path, (std::vector<std::string>{"long.a", "long.b"}));
  ASSERT_TRUE((*s)->Run().ok());
  EXPECT_EQ(log.items().front(), "long.a");
}

TEST(SchedulerTest, PlacementFollowsMeasuredLatency) {
  // A block that is fast on executor 1 and was measured there keeps going there.
  CpuExecutor a({"a", 1, {}}), b({"b", 1, {}});
  BlockTask t = Task("x", {}, [](const ExecContext&) { return Status::Ok(); });
  auto s = BlockScheduler::Create({&a, &b}, {t});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Run().ok());
  const int first = (*s)->Plan().blocks[0].executor;
  EXPECT_GE((*s)->Estimate(0, first), 0);
  // the unmeasured executor borrows the measured estimate (same thread count)
  EXPECT_DOUBLE_EQ((*s)->Estimate(0, 1 - first), (*s)->Estimate(0, first));
}

TEST(SchedulerTest, SkippedBlocksDoNotRunButDependentsDo) {
  CpuExecutor ex({"cpu0", 2, {}});
  std::atomic<int> vision{0}, expert{0}, threads_seen{0};
  std::vector<BlockTask> g;
  g.push_back(Task("vision", {}, [&](const ExecContext&) { ++vision; return Status::Ok(); }));
  g.push_back(Task("expert", {0}, [&](const ExecContext& c) {
    ++expert;
    threads_seen = c.threads;
    return Status::Ok();
  }));
  auto s = BlockScheduler::Create({&ex}, std::move(g));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Run().ok());
  auto r = (*s)->Run({true, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(vision.load(), 1);
  EXPECT_EQ(expert.load(), 2);
  EXPECT_EQ(threads_seen.load(), 2);
  EXPECT_EQ(r->blocks[0].executor, -1);
  EXPECT_EQ((*s)->runs(), 2);
}

TEST(SchedulerTest, LastBlockCanTakeEveryExecutorsThreads) {
  CpuExecutor a({"a", 1, {}}), b({"b", 2, {}});
  std::atomic<int> seen{0}, omp_seen{0};
  std::vector<BlockTask> g;
  g.push_back(Task("cam", {}, [](const ExecContext&) { return Status::Ok(); }));
  BlockTask head = Task("head", {0}, [&](const ExecContext& c) {
    seen = c.threads;
    omp_seen = omp_get_max_threads();
    return Status::Ok();
  });
  head.all_cores = true;
  head.pin = 0;
  g.push_back(head);
  auto s = BlockScheduler::Create({&a, &b}, std::move(g));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Run().ok());
  EXPECT_EQ(seen.load(), 3);
  EXPECT_EQ(omp_seen.load(), 3);
  // the executor is back to its own thread count afterwards
  std::atomic<int> after{0};
  a.Submit(0, [&] { after = omp_get_max_threads(); });
  while (after.load() == 0) std::this_thread::yield();
  EXPECT_EQ(after.load(), 1);
}

TEST(SchedulerTest, ErrorsAndExceptionsStopLaterBlocksAndNameTheBlock) {
  CpuExecutor a({"a", 1, {}}), b({"b", 1, {}});
  std::atomic<int> later{0};
  for (int mode = 0; mode < 2; ++mode) {
    std::vector<BlockTask> g;
    g.push_back(Task("bad", {}, [mode](const ExecContext&) -> Status {
      if (mode == 1) throw std::runtime_error("boom");
      return Internal("no luck");
    }));
    g.push_back(Task("other", {}, [](const ExecContext&) { return Status::Ok(); }));
    g.push_back(Task("after", {0, 1}, [&](const ExecContext&) { ++later; return Status::Ok(); }));
    auto s = BlockScheduler::Create({&a, &b}, std::move(g));
    ASSERT_TRUE(s.ok());
    auto r = (*s)->Run();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().ToString().find("block bad"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().ToString().find(mode == 1 ? "boom" : "no luck"), std::string::npos);
    // the scheduler stays usable
    EXPECT_FALSE((*s)->Run().ok());
  }
  EXPECT_EQ(later.load(), 0);
}

// Many runs back to back over shared executors from two schedulers on two threads (TSan).
TEST(SchedulerTest, ConcurrentSchedulersShareExecutors) {
  CpuExecutor a({"a", 1, {}}), b({"b", 1, {}});
  std::atomic<int> total{0};
  auto make = [&] {
    std::vector<BlockTask> g;
    for (int c = 0; c < 3; ++c) g.push_back(Task("cam" + std::to_string(c), {}, [&](const ExecContext&) { ++total; return Status::Ok(); }));
    g.push_back(Task("h", {0, 1, 2}, [&](const ExecContext&) { ++total; return Status::Ok(); }));
    return BlockScheduler::Create({&a, &b}, std::move(g));
  };
  auto s1 = make(), s2 = make();
  ASSERT_TRUE(s1.ok() && s2.ok());
  std::atomic<bool> ok{true};
  auto loop = [&](BlockScheduler& s) {
    for (int i = 0; i < 50; ++i)
      if (!s.Run().ok()) ok = false;
  };
  std::thread t1(loop, std::ref(**s1)), t2(loop, std::ref(**s2));
  t1.join();
  t2.join();
  EXPECT_TRUE(ok.load());
  EXPECT_EQ(total.load(), 2 * 50 * 4);
}

}  // namespace
}  // namespace embody::runtime::sched
