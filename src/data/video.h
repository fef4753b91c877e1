// Camera videos through FFmpeg's libraries: encode RGB frames to MP4 (AV1 via libsvtav1 as
// LeRobot does, H.264 via libx264 as fallback), concatenate episode videos without re-encoding
// (LeRobot v3.0 keeps many episodes per file), probe, and decode the frame at a timestamp.
//
// Frame timing contract (what LeRobot's decoders rely on): constant frame rate, frame k has
// PTS k/fps from 0, no B-frame reordering, every packet's duration one frame, so an episode of
// N frames lasts exactly N/fps and the next one in a concatenated file starts there.
//
// Errors name the file: kNotFound (missing), kDataLoss (not a video, truncated, undecodable),
// kIoError (write failed, e.g. a full disk), kUnimplemented (no usable encoder).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/image.h"

namespace embody::data {

struct VideoEncoderOptions {
  // FFmpeg encoder names tried in order; the first one available is used. LeRobot's default is
  // libsvtav1; Debian 12's libavcodec has libsvtav1 1.4 and libx264.
  std::vector<std::string> codecs = {"libsvtav1", "libx264"};
  int crf = 30;   // LeRobot's default quality (lower = better, bigger)
  int gop = 2;    // keyframe every 2 frames: cheap random access, as LeRobot
  int preset = 12;  // libsvtav1 speed preset (LeRobot's default 12 = fastest); x264 uses "veryfast"
  int threads = 0;  // encoder threads, 0 = codec default
};

// Writes one MP4 file frame by frame. Thread safety: one thread at a time per object (the
// dataset writer gives each camera its own encoder on its own thread).
class VideoEncoder {
 public:
  // REQUIRES: width and height even (yuv420p), fps > 0.
  static Result<std::unique_ptr<VideoEncoder>> Open(const std::string& path, int width, int height, int fps,
                                                    const VideoEncoderOptions& options = {});
  ~VideoEncoder();
  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;

  // Encodes one frame (height x width x 3 RGB, rows top to bottom) with PTS = frames so far.
  Status Add(const uint8_t* rgb);
  // Flushes the encoder and writes the MP4 trailer. Add after Finish is an error.
  Status Finish();

  int frames() const { return frames_; }
  const std::string& encoder_name() const { return encoder_name_; }  // e.g. "libsvtav1"

 private:
  struct Impl;
  VideoEncoder();
  Status Drain(bool flush);
  std::unique_ptr<Impl> impl_;
  std::string path_, encoder_name_;
  int frames_ = 0;
  bool finished_ = false;
};

// What LeRobot stores as a video feature's "info" (video.codec is the stream's canonical codec
// name: "av1", "h264").
struct VideoInfo {
  std::string codec, pix_fmt;
  int width = 0, height = 0;
  int fps = 0;              // int(stream base rate), as LeRobot records it
  double fps_exact = 0;     // r_frame_rate as a double
  int64_t num_frames = 0;   // from the container (0 when it does not say)
  double duration_s = 0;    // stream duration, else the container's
  bool has_audio = false;
};
Result<VideoInfo> ProbeVideo(const std::string& path);

// Concatenates MP4 files of identical codec parameters (codec, size, pixel format, time base)
// into `output` by copying packets (no re-encoding), each input's timestamps shifted by the
// durations of the inputs before it. Writes "<output>.tmp" and renames, so `output` may be one of
// the inputs and is never left half-written.
Status ConcatVideos(const std::vector<std::string>& inputs, const std::string& output);

// Random-access frame reader. Thread safety: one thread at a time per object; open one decoder
// per thread (or per DataLoader worker) for parallel reads.
class VideoDecoder {
 public:
  // threads: decoder threads (0 = FFmpeg's choice). Training loaders want 1 per worker.
  static Result<std::unique_ptr<VideoDecoder>> Open(const std::string& path, int threads = 1);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  // Decodes the frame whose PTS is closest to `seconds` (seeking back to a keyframe when needed,
  // decoding forward otherwise) into *out (RGB, the video's size). kOutOfRange when the closest
  // frame is further than `tolerance_s` away (LeRobot's FrameTimestampError); *pts_s (optional)
  // gets the frame's time either way. Sequential calls with increasing times do not seek.
  Status FrameAt(double seconds, double tolerance_s, io::Image* out, double* pts_s = nullptr);

  // Decodes every frame in order: fn(index, pts_s, image); stops early when fn returns false.
  Status ForEachFrame(const std::function<bool(int64_t, double, const io::Image&)>& fn);

  const VideoInfo& info() const { return info_; }
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  VideoDecoder();
  // Decodes the next frame into the impl's current frame; false at end of stream.
  Result<bool> Next();
  Status Seek(double seconds);
  Status ToImage(io::Image* out);
  std::unique_ptr<Impl> impl_;
  std::string path_;
  VideoInfo info_;
};

}  // namespace embody::data
