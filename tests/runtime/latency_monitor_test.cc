#include <gtest/gtest.h>

#include "runtime/async/inference_monitor.h"
#include "runtime/async/latency_profile.h"

namespace embody::runtime {
namespace {

TEST(LatencyProfile, Parses) {
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("250")->Charge(7), 250);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("250ms")->Charge(7), 250);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("2.5s")->Charge(7), 2500);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("imx95-act")->Charge(7), 2860);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("imx95-act-opt")->Charge(7), 320);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("imx95-smolvla")->Charge(7), 29100);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("imx95-smolvla-opt")->Charge(7), 6150);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("measured")->Charge(7), 7);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("x3")->Charge(7), 21);
  EXPECT_DOUBLE_EQ(ParseLatencyProfile("measured*0.5")->Charge(7), 3.5);
  EXPECT_FALSE(ParseLatencyProfile("fast").ok());
  EXPECT_FALSE(ParseLatencyProfile("-5").ok());
  EXPECT_FALSE(ParseLatencyProfile("x").ok());
}

TEST(LatencyProfile, DelayTicks) {
  const double p = 1000.0 / 30;
  EXPECT_EQ(DelayTicks(0, p), 0);
  EXPECT_EQ(DelayTicks(10, p), 0);      // fits in the tick
  EXPECT_EQ(DelayTicks(p, p), 0);
  EXPECT_EQ(DelayTicks(40, p), 1);
  EXPECT_EQ(DelayTicks(2 * p, p), 1);
  EXPECT_EQ(DelayTicks(1000, p), 29);
  EXPECT_EQ(DelayTicks(2860, p), 85);
}

TEST(InferenceMonitor, WarnsAndAdaptsThreshold) {
  MonitorOptions o;
  o.chunk_size = 50;
  InferenceMonitor m(o);
  EXPECT_EQ(m.SuggestThreshold(0.2), 0.2);
  EXPECT_TRUE(m.Warning(0.2).empty());
  EXPECT_FALSE(m.Record(100, 10));  // 2 ticks of delay, 10 queued: in time
  EXPECT_TRUE(m.Warning(0.2).empty());
  EXPECT_TRUE(m.Record(1000, 10));  // 29 ticks of delay, 10 queued: late
  EXPECT_EQ(m.late(), 1);
  // EMA = 0.3 * 1000 + 0.7 * 100 = 370 ms -> 11 ticks of delay + 1 margin = 12 of 50
  EXPECT_NEAR(m.ema_ms(), 370, 1e-9);
  EXPECT_DOUBLE_EQ(m.SuggestThreshold(0.2), 12.0 / 50);
  EXPECT_FALSE(m.Warning(0.2).empty());
  EXPECT_TRUE(m.Warning(0.5).empty());
  EXPECT_FALSE(m.ChunkTooShort());
  EXPECT_FALSE(m.CannotHide());  // 11 ticks <= (50 - 1) / 2
  for (int i = 0; i < 20; ++i) m.Record(1000, 25);  // 29 ticks: more than the 20 fresh actions a chunk brings
  EXPECT_TRUE(m.CannotHide());
  EXPECT_FALSE(m.ChunkTooShort());
  EXPECT_DOUBLE_EQ(m.SuggestThreshold(0.2), 25.0 / 50);  // capped at half a chunk
  EXPECT_NE(m.Warning(1.0).find("any threshold"), std::string::npos);
  for (int i = 0; i < 20; ++i) m.Record(3000, 25);
  EXPECT_TRUE(m.ChunkTooShort());
  EXPECT_DOUBLE_EQ(m.SuggestThreshold(0.2), 0.0);  // every chunk arrives stale: run each in full
  EXPECT_NE(m.Warning(1.0).find("stall"), std::string::npos);
}

}  // namespace
}  // namespace embody::runtime
