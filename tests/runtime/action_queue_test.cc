// ActionQueue's merge rule against LeRobot 0.4.4's RobotClient._aggregate_action_queues.
#include <gtest/gtest.h>

#include <vector>

#include "runtime/async/action_queue.h"

namespace embody::runtime {
namespace {

// A chunk of n 1-D actions with value base + i.
std::vector<float> Chunk(int n, float base) {
  std::vector<float> c(n);
  for (int i = 0; i < n; ++i) c[i] = base + static_cast<float>(i);
  return c;
}

TEST(Aggregate, LeRobotConstants) {
  const float old_v = 10, new_v = 20;
  float out = 0;
  Combine(Aggregate::kWeightedAverage, &old_v, &new_v, 1, &out);
  EXPECT_FLOAT_EQ(out, 0.3f * 10 + 0.7f * 20);
  Combine(Aggregate::kLatestOnly, &old_v, &new_v, 1, &out);
  EXPECT_EQ(out, 20);
  Combine(Aggregate::kAverage, &old_v, &new_v, 1, &out);
  EXPECT_FLOAT_EQ(out, 15);
  Combine(Aggregate::kConservative, &old_v, &new_v, 1, &out);
  EXPECT_FLOAT_EQ(out, 0.7f * 10 + 0.3f * 20);
  EXPECT_EQ(*ParseAggregate("conservative"), Aggregate::kConservative);
  EXPECT_FALSE(ParseAggregate("median").ok());
}

TEST(ActionQueue, PopsInTimestepOrderAndTracksLatest) {
  ActionQueue q(8, 1);
  EXPECT_EQ(q.latest_executed(), -1);
  const auto c = Chunk(4, 100);
  const MergeResult m = q.Merge(0, c.data(), 4, {});
  EXPECT_EQ(m.kept, 4);
  float a;
  int64_t ts;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.Pop(&a, &ts));
    EXPECT_EQ(ts, i);
    EXPECT_EQ(a, 100 + i);
  }
  EXPECT_FALSE(q.Pop(&a, &ts));  // empty: the caller holds
  EXPECT_EQ(q.latest_executed(), 3);
}

TEST(ActionQueue, DropsStaleAggregatesOverlapAndDiscardsUncovered) {
  ActionQueue q(8, 1);
  const auto first = Chunk(6, 0);  // timesteps 0..5, values 0..5
  (void)q.Merge(0, first.data(), 6, {});
  float a;
  int64_t ts;
  ASSERT_TRUE(q.Pop(&a, &ts));
  ASSERT_TRUE(q.Pop(&a, &ts));  // executed 0, 1; queued 2..5
  // a chunk observed at timestep 1 (LeRobot: the last executed) covering 1..4, values 101..104
  const auto second = Chunk(4, 100);
  const MergeResult m = q.Merge(1, second.data(), 4, {Aggregate::kWeightedAverage, 0});
  EXPECT_EQ(m.stale, 1);       // timestep 1 already executed
  EXPECT_EQ(m.aggregated, 3);  // 2, 3, 4
  EXPECT_EQ(m.kept, 3);
  EXPECT_EQ(m.discarded, 1);   // 5: not covered by the new chunk, dropped as LeRobot does
  EXPECT_EQ(q.size(), 3);
  for (int t = 2; t <= 4; ++t) {
    ASSERT_TRUE(q.Pop(&a, &ts));
    EXPECT_EQ(ts, t);
    EXPECT_FLOAT_EQ(a, 0.3f * t + 0.7f * (100 + t - 1));
  }
}

TEST(ActionQueue, NewTimestepsBeyondTheQueueAreTakenAsIs) {
  ActionQueue q(8, 1);
  const auto first = Chunk(2, 0);
  (void)q.Merge(0, first.data(), 2, {Aggregate::kConservative, 0});
  const auto second = Chunk(4, 50);  // timesteps 1..4
  (void)q.Merge(1, second.data(), 4, {Aggregate::kConservative, 0});
  float a;
  int64_t ts;
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 0.7f * 1 + 0.3f * 50);  // timestep 1 overlapped
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_EQ(a, 51);  // timestep 2: new only
}

TEST(ActionQueue, SmoothingRampsFromTheLastExecutedAction) {
  ActionQueue q(8, 1);
  const std::vector<float> hold = {0};
  (void)q.Merge(0, hold.data(), 1, {});
  float a;
  int64_t ts;
  ASSERT_TRUE(q.Pop(&a, &ts));  // executed 0 at value 0; queue empty
  const std::vector<float> jump(5, 40.0f);  // timesteps 0..4 (0 is stale)
  (void)q.Merge(0, jump.data(), 5, {Aggregate::kLatestOnly, 3});
  const float expected[] = {10, 20, 30, 40};  // 1/4, 2/4, 3/4 of the way, then the chunk
  for (float e : expected) {
    ASSERT_TRUE(q.Pop(&a, &ts));
    EXPECT_FLOAT_EQ(a, e);
  }
}

TEST(ActionQueue, SmoothingExtrapolatesAMovingRobot) {
  ActionQueue q(8, 1);
  const auto moving = Chunk(2, 0);  // executed 0 then 1: one unit per tick
  (void)q.Merge(0, moving.data(), 2, {});
  float a;
  int64_t ts;
  ASSERT_TRUE(q.Pop(&a, &ts));
  ASSERT_TRUE(q.Pop(&a, &ts));
  const std::vector<float> target(3, 10.0f);  // timesteps 2..4
  (void)q.Merge(2, target.data(), 3, {Aggregate::kLatestOnly, 1});
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 6);  // halfway from the extrapolated 2 to 10
  // after an empty pop the robot is holding: the ramp starts from rest
  ASSERT_TRUE(q.Pop(&a, &ts));
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FALSE(q.Pop(&a, &ts));
  const std::vector<float> next(2, 20.0f);  // timesteps 5..6
  (void)q.Merge(5, next.data(), 2, {Aggregate::kLatestOnly, 1});
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 15);
}

TEST(ActionQueue, SmoothingOfTheFirstChunkStartsFromTheHeldPose) {
  ActionQueue q(8, 1);
  const float pose = 4;
  q.Reset(&pose);
  const std::vector<float> first(3, 8.0f);
  (void)q.Merge(0, first.data(), 3, {Aggregate::kLatestOnly, 1});
  float a;
  int64_t ts;
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 6);
  q.Reset();  // no pose: no ramp
  (void)q.Merge(0, first.data(), 3, {Aggregate::kLatestOnly, 1});
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 8);
}

TEST(ActionQueue, SmoothingOnAnOverlapRampsFromTheQueuedPlan) {
  ActionQueue q(8, 1);
  const std::vector<float> old_plan(6, 0.0f);
  (void)q.Merge(0, old_plan.data(), 6, {});
  const std::vector<float> new_plan(6, 10.0f);
  (void)q.Merge(0, new_plan.data(), 6, {Aggregate::kLatestOnly, 1});
  float a;
  int64_t ts;
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 5);  // halfway from the queued 0 to the new 10
  ASSERT_TRUE(q.Pop(&a, &ts));
  EXPECT_FLOAT_EQ(a, 10);
}

TEST(ActionQueue, ChunksLongerThanCapacityAreCut) {
  ActionQueue q(3, 2);
  std::vector<float> c(10 * 2, 1.0f);
  EXPECT_EQ(q.Merge(0, c.data(), 10, {}).kept, 3);
  EXPECT_EQ(q.size(), 3);
}

}  // namespace
}  // namespace embody::runtime
