// Cameras without hardware: the capture thread and newest-frame reads over generated and file
// sources, a camera that disappears mid-run, JPEG/MJPEG and YUYV decoding, the --camera syntax.
// One V4L2 test runs when a /dev/video* capture device exists and is skipped otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>

#include "camera/camera.h"
#include "camera/camera_spec.h"
#include "camera/decode.h"
#include "camera/synthetic.h"
#include "camera/v4l2.h"
#include "io/image.h"

namespace embody::camera {
namespace {
namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::unique_ptr<Camera> StartGenerated(const GeneratedOptions& o, const std::string& name = "top") {
  auto cam = Camera::Start(name, std::make_unique<GeneratedGrabber>(o));
  EXPECT_TRUE(cam.ok()) << cam.status().ToString();
  return cam.ok() ? std::move(*cam) : nullptr;
}

TEST(Camera, NewestFrameWithoutWaiting) {
  GeneratedOptions o;
  o.width = 64;
  o.height = 48;
  o.fps = 100;
  auto cam = StartGenerated(o);
  ASSERT_TRUE(cam);
  Frame a, b;
  ASSERT_TRUE(cam->ReadLatest(&a).ok());
  EXPECT_EQ(a.width, 64);
  EXPECT_EQ(a.rgb.size(), 64u * 48 * 3);
  EXPECT_GT(a.timestamp_ns, 0);
  // ReadNext waits for a newer frame; timestamps increase.
  ASSERT_TRUE(cam->ReadNext(a.sequence, &b, milliseconds(500)).ok());
  EXPECT_GT(b.sequence, a.sequence);
  EXPECT_GT(b.timestamp_ns, a.timestamp_ns);
  EXPECT_NE(a.rgb, b.rgb);
  // Reading never waits for the camera, even when it is slow.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(cam->ReadLatest(&a).ok());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 50.0);
  EXPECT_GT(cam->stats().repeated, 0u);
}

TEST(Camera, StalledFrameIsAnError) {
  GeneratedOptions o;
  o.width = 16;
  o.height = 16;
  o.fps = 5;
  auto cam = StartGenerated(o);
  ASSERT_TRUE(cam);
  std::this_thread::sleep_for(milliseconds(30));
  Frame f;
  Status s = cam->ReadLatest(&f, milliseconds(10));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("camera top (generated)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("stalled"), std::string::npos);
}

TEST(Camera, DisappearingCameraNamesItself) {
  GeneratedOptions o;
  o.width = 16;
  o.height = 16;
  o.fps = 200;
  o.disappear_after = 5;
  auto cam = StartGenerated(o, "wrist");
  ASSERT_TRUE(cam);
  Frame f;
  Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = cam->ReadLatest(&f);
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("camera wrist (generated) stopped capturing"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("disappeared"), std::string::npos);
  EXPECT_FALSE(cam->error().empty());
}

TEST(Camera, FileSourceAndSpecs) {
  const fs::path dir = fs::temp_directory_path() / ("embody_camera_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  io::Image img{8, 10, std::vector<uint8_t>(8 * 10 * 3, 77)};
  const std::string path = (dir / "a.png").string();
  ASSERT_TRUE(io::SavePng(path, img).ok());
  auto spec = ParseCameraSpec("front=file:" + path + ",fps=50");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "front");
  EXPECT_EQ(spec->fps, 50);
  auto g = OpenGrabber(*spec);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto cam = Camera::Start("front", std::move(*g));
  ASSERT_TRUE(cam.ok());
  Frame f;
  ASSERT_TRUE((*cam)->ReadLatest(&f).ok());
  EXPECT_EQ(f.width, 10);
  EXPECT_EQ(f.height, 8);
  EXPECT_EQ(f.rgb[5], 77);
  fs::remove_all(dir);

  auto missing = OpenGrabber(*ParseCameraSpec("front=file:/nonexistent/x.png"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/x.png"), std::string::npos);
  auto gone = OpenGrabber(*ParseCameraSpec("top=/dev/video_does_not_exist"));
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("/dev/video_does_not_exist"), std::string::npos);
  EXPECT_FALSE(ParseCameraSpec("top").ok());
  EXPECT_FALSE(ParseCameraSpec("top=generated,fps=-3").ok());
  Status bad = ParseCameraSpec("top=generated,colour=red").status();
  EXPECT_NE(bad.message().find("unknown key 'colour'"), std::string::npos) << bad.message();
  auto gen = ParseCameraSpec("top=generated,width=320,height=240,fps=60");
  ASSERT_TRUE(gen.ok());
  EXPECT_EQ(gen->width, 320);
  EXPECT_EQ(gen->fps, 60);
}

std::vector<uint8_t> Pattern(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb[(y * w + x) * 3 + c] = static_cast<uint8_t>(128 + 100 * std::sin(0.1 * x + 0.07 * y + c));
  return rgb;
}

double MeanAbsDiff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int(a[i]) - int(b[i]));
  return s / a.size();
}

TEST(Decode, JpegAndMjpegWithoutHuffmanTables) {
  const int w = 64, h = 48;
  const auto rgb = Pattern(w, h);
  auto jpeg = EncodeJpeg(rgb.data(), w, h, 95);
  ASSERT_TRUE(jpeg.ok());
  JpegDecoder dec;
  Frame f;
  ASSERT_TRUE(dec.Decode(*jpeg, &f, /*fast=*/false).ok());
  EXPECT_EQ(f.width, w);
  EXPECT_EQ(f.height, h);
  EXPECT_LT(MeanAbsDiff(f.rgb, rgb), 3.0);
  // UVC MJPEG frames carry no DHT segment: strip it; the standard tables decode the same image.
  std::vector<uint8_t> mjpeg;
  for (size_t i = 0; i < jpeg->size();) {
    if (i + 3 < jpeg->size() && (*jpeg)[i] == 0xFF && (*jpeg)[i + 1] == 0xC4) {
      i += 2 + (((*jpeg)[i + 2] << 8) | (*jpeg)[i + 3]);
      continue;
    }
    mjpeg.push_back((*jpeg)[i++]);
  }
  ASSERT_LT(mjpeg.size(), jpeg->size());
  Frame g;
  ASSERT_TRUE(dec.Decode(mjpeg, &g, false).ok());
  EXPECT_EQ(g.rgb, f.rgb);
  // Fast mode is close.
  ASSERT_TRUE(dec.Decode(*jpeg, &g, true).ok());
  EXPECT_LT(MeanAbsDiff(g.rgb, rgb), 4.0);
  // Garbage is a bad frame (kDataLoss), and the decoder still works afterwards.
  std::vector<uint8_t> junk = {0xFF, 0xD8, 0x12, 0x34, 0x56, 0x78, 0x9A};
  EXPECT_EQ(dec.Decode(junk, &g).code(), StatusCode::kDataLoss);
  EXPECT_EQ(dec.Decode(std::vector<uint8_t>{1, 2, 3, 4}, &g).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(dec.Decode(*jpeg, &g).ok());
}

TEST(Decode, YuyvBt601) {
  // black, white, and a saturated red pair
  const std::vector<uint8_t> yuyv = {16, 128, 16, 128, 235, 128, 235, 128, 82, 90, 82, 240};
  uint8_t rgb[6 * 3];
  YuyvToRgb(yuyv, 6, 1, rgb);
  EXPECT_EQ(rgb[0], 0);
  EXPECT_EQ(rgb[2], 0);
  EXPECT_EQ(rgb[6], 255);
  EXPECT_EQ(rgb[7], 255);
  EXPECT_EQ(rgb[8], 255);
  EXPECT_GE(rgb[12], 250);
  EXPECT_LE(rgb[13], 5);
  EXPECT_LE(rgb[14], 5);
}

TEST(V4l2, CapturesWhenADeviceExists) {
  std::vector<V4l2Device> devices = ListV4l2Devices();
  const V4l2Device* dev = nullptr;
  for (const auto& d : devices) {
    if (d.capture && !d.formats.empty() && !d.formats[0].sizes.empty()) {
      dev = &d;
      break;
    }
  }
  if (!dev) GTEST_SKIP() << "no V4L2 capture device (/dev/video*) on this machine: V4L2 capture not tested";
  V4l2Options o;
  o.device = dev->path;
  const V4l2FrameSize& size = dev->formats[0].sizes[0];
  o.width = size.width;
  o.height = size.height;
  o.fps = size.fps.empty() ? 30 : size.fps[0];
  auto g = V4l2Grabber::Open(o);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto cam = Camera::Start("v4l2", std::move(*g));
  ASSERT_TRUE(cam.ok()) << cam.status().ToString();
  Frame f;
  ASSERT_TRUE((*cam)->ReadNext(0, &f, milliseconds(3000)).ok());
  EXPECT_EQ(f.width, size.width);
}

}  // namespace
}  // namespace embody::camera
