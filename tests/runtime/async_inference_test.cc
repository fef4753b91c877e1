// AsyncInference with a fake slow policy and a fake fast control loop: the loop keeps popping
// while a prediction runs, and a throwing policy stops the thread and is reported.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "runtime/async/async_inference.h"

namespace embody::runtime {
namespace {

// Each component of action i is timestep + i; sleeps `ms` per chunk; throws on call `throw_at`.
class SlowPolicy : public Policy {
 public:
  SlowPolicy(int ms, int throw_at = -1) : ms_(ms), throw_at_(throw_at) { lat_.push_back({"fake", 0}); }
  std::string_view name() const override { return "slow"; }
  int chunk_size() const override { return 20; }
  int action_dim() const override { return 2; }
  Status PredictChunk(const PolicyObservation& obs, float* chunk) override {
    if (++calls_ == throw_at_) throw std::runtime_error("sensor cable unplugged");
    in_predict = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms_));
    for (int i = 0; i < 20; ++i) chunk[2 * i] = chunk[2 * i + 1] = static_cast<float>(obs.timestep + i);
    lat_[0].ms = ms_;
    in_predict = false;
    return Status::Ok();
  }
  const std::vector<BlockLatency>& last_latencies() const override { return lat_; }
  std::atomic<bool> in_predict{false};

 private:
  int ms_, throw_at_, calls_ = 0;
  std::vector<BlockLatency> lat_;
};

TEST(AsyncInference, ControlLoopKeepsActingDuringInference) {
  SlowPolicy policy(20);
  ActionQueue queue(policy.chunk_size(), policy.action_dim());
  AsyncOptions o;
  o.threshold = 0.5;
  o.period_ms = 2;
  AsyncInference inference(policy, queue, [](PolicyObservation*) { return Status::Ok(); }, o);
  inference.Start();
  int popped = 0, popped_during_predict = 0, idle = 0;
  int64_t last_ts = -1;
  float a[2];
  for (int tick = 0; tick < 300; ++tick) {  // ~0.6 s at 2 ms per tick
    int64_t ts;
    if (queue.Pop(a, &ts)) {
      ++popped;
      if (policy.in_predict) ++popped_during_predict;
      EXPECT_GT(ts, last_ts);
      EXPECT_FLOAT_EQ(a[0], static_cast<float>(ts));
      last_ts = ts;
    } else {
      ++idle;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  inference.Stop();
  EXPECT_FALSE(inference.failed());
  EXPECT_GT(inference.inferences(), 3);
  EXPECT_GT(popped, 100);
  EXPECT_GT(popped_during_predict, 10) << "the control loop waited for inference";
}

TEST(AsyncInference, ThrowingPolicyStopsAndIsReported) {
  SlowPolicy policy(1, /*throw_at=*/2);
  ActionQueue queue(policy.chunk_size(), policy.action_dim());
  AsyncInference inference(policy, queue, [](PolicyObservation*) { return Status::Ok(); }, {});
  inference.Start();
  float a[2];
  int64_t ts;
  for (int i = 0; i < 2000 && !inference.failed(); ++i) {
    (void)queue.Pop(a, &ts);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(inference.failed());
  EXPECT_NE(inference.error().find("sensor cable unplugged"), std::string::npos);
  EXPECT_EQ(inference.inferences(), 1);
  inference.Stop();  // joins a thread that already returned
}

}  // namespace
}  // namespace embody::runtime
