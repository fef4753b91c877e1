// Files written by the real LeRobot 0.4.4 and by pyarrow (tools/dataset/make_fixtures.py) are
// read by embody: v3.0 with videos, v3.0 with embedded PNG images, v2.1, and Parquet variants.
#include <gtest/gtest.h>

#include "data/parquet.h"
#include "data/reader.h"

namespace embody::data {
namespace {

const std::string kDir = EMBODY_DATA_FIXTURES;

// The fixture's values: state = ep*100 + i + 0.1 j, action = -state; image R = (i*7)%200+20,
// G = (ep*40)%200+20, B = cam*60+40.
void ExpectFixture(const std::string& root, int tolerance) {
  auto ds = Dataset::Open(root);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  const Dataset& d = **ds;
  ASSERT_EQ(d.num_episodes(), 3);
  ASSERT_EQ(d.num_frames(), 22);
  ASSERT_EQ(d.tasks().size(), 2u);
  EXPECT_EQ(d.episodes()[1].tasks, std::vector<std::string>{"task b"});
  auto v = d.Value("observation.state", 2, 5);
  ASSERT_TRUE(v.ok());
  EXPECT_FLOAT_EQ((*v)[1], 205.1f);
  auto a = d.Value("action", 1, 8);
  ASSERT_TRUE(a.ok());
  EXPECT_FLOAT_EQ((*a)[0], -108.0f);
  auto r = d.NewFrameReader();
  for (auto [ep, fr] : {std::pair<int, int>{0, 0}, {1, 8}, {2, 3}, {0, 5}}) {
    for (int cam = 0; cam < 2; ++cam) {
      auto img = r->Image(cam ? "observation.images.wrist" : "observation.images.top", ep, fr);
      ASSERT_TRUE(img.ok()) << img.status().ToString();
      const uint8_t* p = &img->pixels[(32 * 96 + 48) * 3];
      EXPECT_NEAR(p[0], (fr * 7) % 200 + 20, tolerance) << ep << " " << fr;
      EXPECT_NEAR(p[1], (ep * 40) % 200 + 20, tolerance);
      EXPECT_NEAR(p[2], cam * 60 + 40, tolerance);
    }
  }
  EXPECT_EQ(d.stats().at("action").count, 22);
  SampleRequest req;
  req.delta_indices["action"] = {-1, 0, 1};
  auto s = r->Get(0, req);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->is_pad["action_is_pad"], (std::vector<uint8_t>{1, 0, 0}));
}

TEST(LeRobotFixtures, V30Video) { ExpectFixture(kDir + "/lerobot_v30_video", 6); }
TEST(LeRobotFixtures, V30EmbeddedImages) { ExpectFixture(kDir + "/lerobot_v30_image", 0); }
TEST(LeRobotFixtures, V21) {
  ExpectFixture(kDir + "/lerobot_v21", 8);
  auto ds = Dataset::Open(kDir + "/lerobot_v21");
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ((*ds)->info().codebase_version, "v2.1");
  EXPECT_FALSE((*ds)->stats().at("action").has_quantiles());  // v2.1 stats have none
}

TEST(ParquetVariants, AllReadTheSame) {
  for (const char* name : {"snappy_dict", "zstd_pagev2", "gzip_plain", "lists_dictionary_type"}) {
    auto t = ReadParquet(kDir + "/parquet_variants/" + name + ".parquet");
    ASSERT_TRUE(t.ok()) << name << ": " << t.status().ToString();
    EXPECT_EQ(t->num_rows(), 12) << name;
    const Column* a = t->Find("action");
    ASSERT_TRUE(a) << name;
    EXPECT_EQ(a->num_values(), 36) << name;
    EXPECT_EQ(a->number(3 * 5 + 2), 17.0) << name;
    const Column* task = t->Find("task");
    ASSERT_TRUE(task);
    EXPECT_EQ(task->type, ValueType::kString);
    EXPECT_EQ(task->str[3], "place") << name;
    EXPECT_EQ(task->str[4], "pick") << name;
  }
  auto f = ParquetFile::Open(kDir + "/parquet_variants/snappy_dict.parquet");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->num_row_groups(), 3);
  auto g = (*f)->Read({"index"}, 1, 1);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->num_rows(), 5);
  EXPECT_EQ(g->columns[0].i64[0], 5);
}

TEST(ParquetVariants, NullsAreVisible) {
  auto t = ReadParquet(kDir + "/parquet_variants/nulls.parquet");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->Find("action")->is_null(4));
  EXPECT_FALSE(t->Find("action")->is_null(3));
  EXPECT_TRUE(t->Find("timestamp")->is_null(7));
  EXPECT_EQ(t->Find("action")->num_values(), 33);
}

TEST(ParquetVariants, TruncatedFileIsDataLoss) {
  const std::string p = kDir + "/parquet_variants/truncated.parquet";
  auto t = ReadParquet(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(t.status().message().find(p), std::string::npos) << t.status().message();
}

}  // namespace
}  // namespace embody::data
