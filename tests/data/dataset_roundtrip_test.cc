// Writer -> reader round trip: values, images decoded at timestamps, delta chunks with padding,
// stats, chunked files, resume, crash leftovers.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/format.h"
#include "data/parquet.h"
#include "data/reader.h"
#include "test_util.h"

namespace embody::data {
namespace {

using testing::ActionValue;
using testing::RecordEpisode;
using testing::SmallSpec;
using testing::StateValue;
using testing::TempDir;

TEST(DatasetRoundTrip, WritesAndReadsBack) {
  TempDir tmp;
  const std::string root = tmp.path("ds");
  {
    auto w = DatasetWriter::Create(root, SmallSpec());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    RecordEpisode(w->get(), 0, 12, {.task = "task a", .cluster = 3, .recovery = false});
    RecordEpisode(w->get(), 1, 7, {.task = "task b", .cluster = 6, .recovery = true});
    RecordEpisode(w->get(), 2, 9, {.task = "task a", .cluster = 1});
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto ds = Dataset::Open(root);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  const Dataset& d = **ds;
  EXPECT_EQ(d.num_episodes(), 3);
  EXPECT_EQ(d.num_frames(), 28);
  ASSERT_EQ(d.tasks().size(), 2u);
  EXPECT_EQ(d.episodes()[1].cluster, 6);
  EXPECT_TRUE(d.episodes()[1].recovery);
  EXPECT_EQ(d.episodes()[2].from, 19);
  // one data file, one video file per camera: episodes concatenated
  EXPECT_TRUE(std::filesystem::exists(root + "/data/chunk-000/file-000.parquet"));
  EXPECT_FALSE(std::filesystem::exists(root + "/data/chunk-000/file-001.parquet"));
  EXPECT_NEAR(d.episodes()[2].videos.at("observation.images.top").from_s, 19.0 / 30, 1e-9);
  auto v = d.Value("observation.state", 1, 4);
  ASSERT_TRUE(v.ok());
  EXPECT_FLOAT_EQ((*v)[2], StateValue(1, 4, 2));

  auto reader = d.NewFrameReader();
  SampleRequest req;
  req.delta_indices["action"] = {0, 1, 2, 3, 4};
  auto s = reader->Get(d.episodes()[1].from + 4, req);  // frame 4 of a 7-frame episode
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->task, "task b");
  ASSERT_EQ(s->values["action"].size(), 15u);
  EXPECT_FLOAT_EQ(s->values["action"][0], ActionValue(1, 4, 0));
  EXPECT_FLOAT_EQ(s->values["action"][2 * 3], ActionValue(1, 6, 0));
  EXPECT_FLOAT_EQ(s->values["action"][4 * 3], ActionValue(1, 6, 0));  // clamped to the last frame
  EXPECT_EQ(s->is_pad["action_is_pad"], (std::vector<uint8_t>{0, 0, 0, 1, 1}));
  const io::Image& top = s->images["observation.images.top"][0];
  ASSERT_EQ(top.width, 96);
  const auto want = testing::SyntheticImage(64, 96, 1, 4, 0);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(top.pixels[static_cast<size_t>(32 * 96 + 48) * 3 + c], want[c], 6) << c;
  // random access backwards and across files
  for (int64_t g : {27, 0, 13, 5}) {
    auto ep = d.EpisodeOf(g);
    ASSERT_TRUE(ep.ok());
    const int64_t f = g - d.episodes()[static_cast<size_t>(*ep)].from;
    auto img = reader->Image("observation.images.gripper", *ep, f);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    const auto w2 = testing::SyntheticImage(64, 96, static_cast<int>(*ep), static_cast<int>(f), 1);
    EXPECT_NEAR(img->pixels[0], w2[0], 6) << g;
  }
  // stats: counts and per-channel image stats
  const FeatureStats& st = d.stats().at("observation.state");
  EXPECT_EQ(st.count, 28);
  EXPECT_FLOAT_EQ(static_cast<float>(st.min[0]), 0.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(st.max[0]), StateValue(2, 8, 0));
  const FeatureStats& im = d.stats().at("observation.images.gripper");
  EXPECT_EQ(im.shape, (std::vector<int64_t>{3, 1, 1}));
  EXPECT_NEAR(im.mean[2], 100 / 255.0, 1e-9);  // camera 1: blue = 100 everywhere (raw frames)
  EXPECT_EQ(im.count, 28);                      // frames sampled (all, < 100)
}

TEST(DatasetRoundTrip, ResumeAfterCrashKeepsCommittedEpisodes) {
  TempDir tmp;
  const std::string root = tmp.path("ds");
  {
    auto w = DatasetWriter::Create(root, SmallSpec(1));
    ASSERT_TRUE(w.ok());
    RecordEpisode(w->get(), 0, 5);
    RecordEpisode(w->get(), 1, 6);
    // an episode in progress when the process dies: frames queued, nothing committed
    ASSERT_TRUE((*w)->BeginEpisode({}).ok());
    auto img = testing::SyntheticImage(64, 96, 2, 0, 0);
    float v[3] = {1, 2, 3};
    ASSERT_TRUE((*w)->AddFrame({v, v, {img.data()}}).ok());
    // simulate kill -9 by leaking nothing to disk beyond the staging file: drop the writer
  }
  // a crash between the data file and info.json: an orphan data row past total_frames
  {
    const std::string f = root + "/data/chunk-000/file-000.parquet";
    auto t = ReadParquet(f);
    ASSERT_TRUE(t.ok());
    Table more = *t;
    ASSERT_TRUE(more.AppendRows(*t, 0, 1).ok());
    ASSERT_TRUE(WriteParquet(f, more).ok());
  }
  ASSERT_TRUE(Dataset::Open(root).ok());  // still readable: info.json rules
  {
    auto w = DatasetWriter::Resume(root);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ((*w)->num_episodes(), 2);
    RecordEpisode(w->get(), 2, 4);
  }
  auto ds = Dataset::Open(root);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ((*ds)->num_episodes(), 3);
  EXPECT_EQ((*ds)->num_frames(), 15);
  // resume starts new files, as LeRobot does
  EXPECT_TRUE(std::filesystem::exists(root + "/data/chunk-000/file-001.parquet"));
  EXPECT_TRUE(std::filesystem::exists(root + "/videos/observation.images.top/chunk-000/file-001.mp4"));
  auto t = ReadParquet(root + "/data/chunk-000/file-000.parquet");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_rows(), 11);  // the orphan row is gone
  auto r = (*ds)->NewFrameReader();
  auto img = r->Image("observation.images.top", 2, 3);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ((*ds)->stats().at("action").count, 15);
}

TEST(DatasetRoundTrip, RollsOverFilesAtTheSizeLimit) {
  TempDir tmp;
  const std::string root = tmp.path("ds");
  WriterOptions o;
  o.data_files_size_in_mb = 1;  // any second episode exceeds nothing, so force with chunks
  o.chunks_size = 2;
  o.video_files_size_in_mb = 1;
  {
    auto w = DatasetWriter::Resume(root);
    EXPECT_FALSE(w.ok());
  }
  auto w = DatasetWriter::Create(root, SmallSpec(1), o);
  ASSERT_TRUE(w.ok());
  RecordEpisode(w->get(), 0, 3);
  ASSERT_TRUE((*w)->Close().ok());
  w->reset();
  for (int e = 1; e < 4; ++e) {  // each resume starts the next file: file-001, then chunk-001
    auto r = DatasetWriter::Resume(root, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    RecordEpisode(r->get(), e, 3);
  }
  EXPECT_TRUE(std::filesystem::exists(root + "/data/chunk-001/file-000.parquet"));
  EXPECT_TRUE(std::filesystem::exists(root + "/data/chunk-001/file-001.parquet"));
  auto ds = Dataset::Open(root);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ((*ds)->num_frames(), 12);
  auto v = (*ds)->Value("action", 3, 2);
  ASSERT_TRUE(v.ok());
  EXPECT_FLOAT_EQ((*v)[0], ActionValue(3, 2, 0));
}

}  // namespace
}  // namespace embody::data
