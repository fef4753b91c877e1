// ActionQueue under concurrent producers and consumers. Run under ThreadSanitizer by CI
// (docs/async.md); without it the test still checks the invariants below.
//
// Every producer's chunk encodes its timesteps (each component of action t is t), so whatever
// the interleaving and the aggregate function (convex combinations of equal values), a popped
// action must equal its timestep, and timesteps must never repeat or go backwards.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>
#include <vector>

#include "runtime/async/action_queue.h"

namespace embody::runtime {
namespace {

constexpr int kChunk = 16, kDim = 6;

void Produce(ActionQueue& q, std::atomic<bool>& stop, Aggregate agg, int smooth) {
  std::vector<float> chunk(kChunk * kDim);
  while (!stop.load()) {
    // the inference thread's loop: sleep until the queue drains to the trigger level
    if (!q.WaitUntilAtMost(kChunk / 2, std::chrono::milliseconds(2))) continue;
    const int64_t t0 = std::max<int64_t>(q.latest_executed(), 0);
    for (int i = 0; i < kChunk; ++i)
      for (int d = 0; d < kDim; ++d) chunk[i * kDim + d] = static_cast<float>(t0 + i);
    (void)q.Merge(t0, chunk.data(), kChunk, {agg, smooth});
  }
}

void Consume(ActionQueue& q, std::atomic<bool>& stop, std::vector<int64_t>* seen, std::atomic<int>* bad) {
  float a[kDim];
  int64_t ts = 0;
  while (!stop.load()) {
    if (!q.Pop(a, &ts)) {
      std::this_thread::yield();
      continue;
    }
    for (float v : a)
      if (std::fabs(v - static_cast<float>(ts)) > 1e-3f * (1 + static_cast<float>(ts))) ++*bad;
    seen->push_back(ts);
  }
}

class QueueConcurrency : public ::testing::TestWithParam<Aggregate> {};

TEST_P(QueueConcurrency, ProducersAndConsumers) {
  ActionQueue q(kChunk, kDim);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::vector<int64_t>> seen(2);
  for (auto& s : seen) s.reserve(1 << 20);
  std::vector<std::thread> threads;
  // smoothing ramps towards the last executed action, which breaks "value == timestep" only when
  // the ramp starts from a different value; the ramp reference is always an older timestep, so
  // test it with latest_only + no ramp and the blends without one
  for (int p = 0; p < 3; ++p) threads.emplace_back(Produce, std::ref(q), std::ref(stop), GetParam(), 0);
  for (int c = 0; c < 2; ++c) threads.emplace_back(Consume, std::ref(q), std::ref(stop), &seen[c], &bad);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  q.Close();
  for (auto& t : threads) t.join();

  EXPECT_EQ(bad.load(), 0);
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& s : seen) {
    for (size_t i = 1; i < s.size(); ++i) ASSERT_LT(s[i - 1], s[i]) << "a consumer saw timesteps go backwards";
    all.insert(s.begin(), s.end());
    total += s.size();
  }
  EXPECT_EQ(all.size(), total) << "a timestep was executed twice";
  EXPECT_GT(total, 100u) << "the consumers made no progress";
}

INSTANTIATE_TEST_SUITE_P(AllAggregates, QueueConcurrency,
                         ::testing::Values(Aggregate::kWeightedAverage, Aggregate::kLatestOnly, Aggregate::kAverage,
                                           Aggregate::kConservative));

TEST(QueueConcurrency, CloseWakesAWaitingProducer) {
  ActionQueue q(4, 1);
  const std::vector<float> c(4, 1.0f);
  (void)q.Merge(0, c.data(), 4, {});
  std::thread waiter([&] { EXPECT_FALSE(q.WaitUntilAtMost(0, std::chrono::seconds(30))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto start = std::chrono::steady_clock::now();
  q.Close();
  waiter.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace embody::runtime
