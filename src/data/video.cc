#include "data/video.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <mutex>

namespace embody::data {

namespace {

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

// FFmpeg logs to stderr by default; corrupt-input tests would flood the output. Errors reach
// the caller as Status instead.
void QuietLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_FATAL);
    setenv("SVT_LOG", "1", 0);  // SVT-AV1 prints its banner at info level otherwise; keep errors
  });
}

struct FormatCloser {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
using InputPtr = std::unique_ptr<AVFormatContext, FormatCloser>;

Result<InputPtr> OpenInput(const std::string& path) {
  QuietLogs();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return NotFound(path + ": no such video file");
  AVFormatContext* fmt = nullptr;
  int rc = avformat_open_input(&fmt, path.c_str(), nullptr, nullptr);
  if (rc < 0) return DataLoss(path + ": not a readable video (" + AvError(rc) + ")");
  InputPtr in(fmt);
  rc = avformat_find_stream_info(fmt, nullptr);
  if (rc < 0) return DataLoss(path + ": cannot read stream info (" + AvError(rc) + ")");
  return in;
}

int VideoStreamIndex(AVFormatContext* fmt) { return av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0); }

VideoInfo InfoOf(AVFormatContext* fmt, int si) {
  VideoInfo v;
  const AVStream* st = fmt->streams[si];
  const AVCodecParameters* par = st->codecpar;
  if (const AVCodecDescriptor* d = avcodec_descriptor_get(par->codec_id)) v.codec = d->name;
  if (const char* p = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format))) v.pix_fmt = p;
  v.width = par->width;
  v.height = par->height;
  const AVRational r = st->r_frame_rate.num ? st->r_frame_rate : st->avg_frame_rate;
  v.fps_exact = r.den ? av_q2d(r) : 0;
  v.fps = static_cast<int>(v.fps_exact);
  v.num_frames = st->nb_frames;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) v.duration_s = st->duration * av_q2d(st->time_base);
  else if (fmt->duration != AV_NOPTS_VALUE) v.duration_s = static_cast<double>(fmt->duration) / AV_TIME_BASE;
  for (unsigned i = 0; i < fmt->nb_streams; ++i)
    if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) v.has_audio = true;
  return v;
}

}  // namespace

// ---------------------------------------------------------------- encoder

struct VideoEncoder::Impl {
  AVFormatContext* fmt = nullptr;
  AVCodecContext* ctx = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* pkt = nullptr;
  SwsContext* sws = nullptr;
  int width = 0, height = 0;
  bool header_written = false;
  ~Impl() {
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    if (fmt) {
      if (fmt->pb) avio_closep(&fmt->pb);
      avformat_free_context(fmt);
    }
  }
};

VideoEncoder::VideoEncoder() : impl_(std::make_unique<Impl>()) {}
VideoEncoder::~VideoEncoder() = default;

Result<std::unique_ptr<VideoEncoder>> VideoEncoder::Open(const std::string& path, int width, int height, int fps,
                                                         const VideoEncoderOptions& o) {
  QuietLogs();
  if (width <= 0 || height <= 0 || width % 2 || height % 2)
    return InvalidArgument(path + ": video size " + std::to_string(width) + "x" + std::to_string(height) +
                           " must be positive and even (yuv420p)");
  if (fps <= 0) return InvalidArgument(path + ": fps must be > 0");
  std::unique_ptr<VideoEncoder> e(new VideoEncoder());
  e->path_ = path;
  Impl& m = *e->impl_;
  m.width = width;
  m.height = height;
  int rc = avformat_alloc_output_context2(&m.fmt, nullptr, "mp4", path.c_str());
  if (rc < 0 || !m.fmt) return Internal(path + ": cannot create an mp4 muxer (" + AvError(rc) + ")");
  // The first encoder in the list that exists and accepts the settings wins (libsvtav1 refuses
  // frames under 64x64, for example; then libx264 takes over).
  std::string tried;
  for (const std::string& name : o.codecs) {
    const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
    if (!codec) {
      tried += " " + name + ": not in this libavcodec;";
      continue;
    }
    avcodec_free_context(&m.ctx);
    m.ctx = avcodec_alloc_context3(codec);
    m.ctx->width = width;
    m.ctx->height = height;
    m.ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    m.ctx->time_base = AVRational{1, fps};
    m.ctx->framerate = AVRational{fps, 1};
    m.ctx->gop_size = o.gop;
    m.ctx->max_b_frames = 0;  // PTS == DTS: frame k at k/fps, nothing reordered
    if (o.threads > 0) m.ctx->thread_count = o.threads;
    if (m.fmt->oformat->flags & AVFMT_GLOBALHEADER) m.ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary* opts = nullptr;
    av_dict_set_int(&opts, "crf", o.crf, 0);
    if (name == "libsvtav1") av_dict_set_int(&opts, "preset", o.preset, 0);
    if (name == "libx264") av_dict_set(&opts, "preset", "veryfast", 0);
    rc = avcodec_open2(m.ctx, codec, &opts);
    av_dict_free(&opts);
    if (rc >= 0) {
      e->encoder_name_ = name;
      break;
    }
    tried += " " + name + ": " + AvError(rc) + ";";
  }
  if (e->encoder_name_.empty())
    return Unimplemented(path + ": no usable video encoder for " + std::to_string(width) + "x" +
                         std::to_string(height) + " (" + tried + " )");
  m.stream = avformat_new_stream(m.fmt, nullptr);
  m.stream->time_base = m.ctx->time_base;
  m.stream->avg_frame_rate = m.ctx->framerate;
  m.stream->r_frame_rate = m.ctx->framerate;
  avcodec_parameters_from_context(m.stream->codecpar, m.ctx);
  rc = avio_open(&m.fmt->pb, path.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) return IoError(path + ": cannot create (" + AvError(rc) + ")");
  rc = avformat_write_header(m.fmt, nullptr);
  if (rc < 0) return IoError(path + ": cannot write the mp4 header (" + AvError(rc) + ")");
  m.header_written = true;
  m.frame = av_frame_alloc();
  m.frame->format = AV_PIX_FMT_YUV420P;
  m.frame->width = width;
  m.frame->height = height;
  if (av_frame_get_buffer(m.frame, 0) < 0) return Internal(path + ": cannot allocate a frame");
  m.pkt = av_packet_alloc();
  m.sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr,
                         nullptr, nullptr);
  if (!m.sws) return Internal(path + ": cannot create the RGB -> YUV converter");
  return e;
}

Status VideoEncoder::Drain(bool flush) {
  Impl& m = *impl_;
  while (true) {
    const int rc = avcodec_receive_packet(m.ctx, m.pkt);
    if (rc == AVERROR(EAGAIN) || (flush && rc == AVERROR_EOF)) return Status::Ok();
    if (rc < 0) return Internal(path_ + ": encoder failed (" + AvError(rc) + ")");
    m.pkt->duration = 1;
    av_packet_rescale_ts(m.pkt, m.ctx->time_base, m.stream->time_base);
    m.pkt->stream_index = m.stream->index;
    const int wr = av_interleaved_write_frame(m.fmt, m.pkt);
    if (wr < 0) return IoError(path_ + ": write failed (" + AvError(wr) + ")");
  }
}

Status VideoEncoder::Add(const uint8_t* rgb) {
  if (finished_) return FailedPrecondition(path_ + ": Add after Finish");
  Impl& m = *impl_;
  if (av_frame_make_writable(m.frame) < 0) return Internal(path_ + ": frame not writable");
  const uint8_t* src[1] = {rgb};
  const int stride[1] = {3 * m.width};
  sws_scale(m.sws, src, stride, 0, m.height, m.frame->data, m.frame->linesize);
  m.frame->pts = frames_;
  const int rc = avcodec_send_frame(m.ctx, m.frame);
  if (rc < 0) return Internal(path_ + ": encoder refused frame " + std::to_string(frames_) + " (" + AvError(rc) + ")");
  ++frames_;
  return Drain(false);
}

Status VideoEncoder::Finish() {
  if (finished_) return Status::Ok();
  finished_ = true;
  Impl& m = *impl_;
  const int rc = avcodec_send_frame(m.ctx, nullptr);
  if (rc < 0) return Internal(path_ + ": flush failed (" + AvError(rc) + ")");
  EMBODY_TRY(Drain(true));
  const int wr = av_write_trailer(m.fmt);
  if (wr < 0) return IoError(path_ + ": cannot write the mp4 trailer (" + AvError(wr) + ")");
  if (m.fmt->pb && m.fmt->pb->error < 0) return IoError(path_ + ": write failed (" + AvError(m.fmt->pb->error) + ")");
  avio_closep(&m.fmt->pb);
  return Status::Ok();
}

// ---------------------------------------------------------------- probe / concat

Result<VideoInfo> ProbeVideo(const std::string& path) {
  EMBODY_ASSIGN_OR_RETURN(InputPtr in, OpenInput(path));
  const int si = VideoStreamIndex(in.get());
  if (si < 0) return DataLoss(path + ": no video stream");
  return InfoOf(in.get(), si);
}

Status ConcatVideos(const std::vector<std::string>& inputs, const std::string& output) {
  QuietLogs();
  if (inputs.empty()) return InvalidArgument(output + ": nothing to concatenate");
  const std::string tmp = output + ".tmp.mp4";
  AVFormatContext* out = nullptr;
  int rc = avformat_alloc_output_context2(&out, nullptr, "mp4", tmp.c_str());
  if (rc < 0 || !out) return Internal(tmp + ": cannot create an mp4 muxer");
  std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> out_guard(out, [](AVFormatContext* f) {
    if (f->pb) avio_closep(&f->pb);
    avformat_free_context(f);
  });
  AVStream* ost = nullptr;
  AVCodecParameters* ref = nullptr;
  AVRational tb{0, 1};
  int64_t offset = 0;  // in the first input's stream time base
  AVPacket* pkt = av_packet_alloc();
  std::unique_ptr<AVPacket, void (*)(AVPacket*)> pkt_guard(pkt, [](AVPacket* p) { av_packet_free(&p); });
  std::vector<InputPtr> opened;
  Status status;
  auto fail = [&](Status s) {
    std::error_code ec;
    out_guard.reset();
    std::filesystem::remove(tmp, ec);
    return s;
  };
  for (const std::string& path : inputs) {
    auto in_or = OpenInput(path);
    if (!in_or.ok()) return fail(in_or.status());
    InputPtr in = std::move(*in_or);
    const int si = VideoStreamIndex(in.get());
    if (si < 0) return fail(DataLoss(path + ": no video stream"));
    AVStream* ist = in->streams[si];
    if (!ost) {
      ost = avformat_new_stream(out, nullptr);
      avcodec_parameters_copy(ost->codecpar, ist->codecpar);
      ost->codecpar->codec_tag = 0;
      ost->time_base = ist->time_base;
      ost->avg_frame_rate = ist->avg_frame_rate;
      ost->r_frame_rate = ist->r_frame_rate;
      tb = ist->time_base;
      ref = ost->codecpar;
      AVDictionary* opts = nullptr;
      av_dict_set(&opts, "movflags", "faststart", 0);
      rc = avio_open(&out->pb, tmp.c_str(), AVIO_FLAG_WRITE);
      if (rc < 0) {
        av_dict_free(&opts);
        return fail(IoError(tmp + ": cannot create (" + AvError(rc) + ")"));
      }
      rc = avformat_write_header(out, &opts);
      av_dict_free(&opts);
      if (rc < 0) return fail(IoError(tmp + ": cannot write the mp4 header (" + AvError(rc) + ")"));
    } else {
      const AVCodecParameters* p = ist->codecpar;
      if (p->codec_id != ref->codec_id || p->width != ref->width || p->height != ref->height || p->format != ref->format)
        return fail(InvalidArgument(path + ": codec parameters differ from " + inputs[0] + "; cannot concatenate"));
    }
    int64_t end = offset;  // end of this input in the output's time base
    while ((rc = av_read_frame(in.get(), pkt)) >= 0) {
      if (pkt->stream_index != si || pkt->dts == AV_NOPTS_VALUE) {
        av_packet_unref(pkt);
        continue;
      }
      av_packet_rescale_ts(pkt, ist->time_base, ost->time_base);
      pkt->pts += offset;
      pkt->dts += offset;
      if (pkt->duration <= 0) pkt->duration = av_rescale_q(1, av_inv_q(ist->r_frame_rate), ost->time_base);
      end = std::max(end, pkt->pts + pkt->duration);
      pkt->stream_index = ost->index;
      pkt->pos = -1;
      const int wr = av_interleaved_write_frame(out, pkt);
      if (wr < 0) return fail(IoError(tmp + ": write failed (" + AvError(wr) + ")"));
    }
    if (rc != AVERROR_EOF) return fail(DataLoss(path + ": read error (" + AvError(rc) + ")"));
    offset = end;
  }
  (void)tb;
  rc = av_write_trailer(out);
  if (rc < 0) return fail(IoError(tmp + ": cannot write the mp4 trailer (" + AvError(rc) + ")"));
  if (out->pb->error < 0) return fail(IoError(tmp + ": write failed"));
  avio_closep(&out->pb);
  if (std::rename(tmp.c_str(), output.c_str()) != 0) return fail(IoError(output + ": rename failed"));
  return Status::Ok();
}

// ---------------------------------------------------------------- decoder

struct VideoDecoder::Impl {
  InputPtr fmt;
  int si = -1;
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* pkt = nullptr;
  SwsContext* sws = nullptr;
  bool have_frame = false;  // `frame` holds a decoded frame
  bool eof = false;
  double frame_s = 0;       // time of `frame`
  double tb = 0;            // seconds per stream tick
  ~Impl() {
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
  }
};

VideoDecoder::VideoDecoder() : impl_(std::make_unique<Impl>()) {}
VideoDecoder::~VideoDecoder() = default;

Result<std::unique_ptr<VideoDecoder>> VideoDecoder::Open(const std::string& path, int threads) {
  std::unique_ptr<VideoDecoder> d(new VideoDecoder());
  d->path_ = path;
  Impl& m = *d->impl_;
  EMBODY_ASSIGN_OR_RETURN(m.fmt, OpenInput(path));
  m.si = VideoStreamIndex(m.fmt.get());
  if (m.si < 0) return DataLoss(path + ": no video stream");
  AVStream* st = m.fmt->streams[m.si];
  d->info_ = InfoOf(m.fmt.get(), m.si);
  if (d->info_.width <= 0 || d->info_.height <= 0) return DataLoss(path + ": video stream without a frame size");
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) return Unimplemented(path + ": no decoder for codec '" + d->info_.codec + "'");
  m.ctx = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(m.ctx, st->codecpar);
  m.ctx->thread_count = threads;
  m.ctx->pkt_timebase = st->time_base;
  const int rc = avcodec_open2(m.ctx, codec, nullptr);
  if (rc < 0) return DataLoss(path + ": cannot open the " + d->info_.codec + " decoder (" + AvError(rc) + ")");
  m.frame = av_frame_alloc();
  m.pkt = av_packet_alloc();
  m.tb = av_q2d(st->time_base);
  return d;
}

Result<bool> VideoDecoder::Next() {
  Impl& m = *impl_;
  while (true) {
    int rc = avcodec_receive_frame(m.ctx, m.frame);
    if (rc == 0) {
      const int64_t ts = m.frame->best_effort_timestamp != AV_NOPTS_VALUE ? m.frame->best_effort_timestamp : m.frame->pts;
      m.frame_s = ts == AV_NOPTS_VALUE ? 0 : static_cast<double>(ts) * m.tb;
      m.have_frame = true;
      return true;
    }
    if (rc == AVERROR_EOF) {
      m.eof = true;
      return false;
    }
    if (rc != AVERROR(EAGAIN)) return DataLoss(path_ + ": decode error (" + AvError(rc) + ")");
    if (m.eof) return false;
    rc = av_read_frame(m.fmt.get(), m.pkt);
    if (rc == AVERROR_EOF) {
      avcodec_send_packet(m.ctx, nullptr);  // drain
      continue;
    }
    if (rc < 0) return DataLoss(path_ + ": read error (" + AvError(rc) + ")");
    if (m.pkt->stream_index == m.si) {
      rc = avcodec_send_packet(m.ctx, m.pkt);
      av_packet_unref(m.pkt);
      if (rc < 0 && rc != AVERROR(EAGAIN)) return DataLoss(path_ + ": corrupt packet (" + AvError(rc) + ")");
    } else {
      av_packet_unref(m.pkt);
    }
  }
}

Status VideoDecoder::Seek(double seconds) {
  Impl& m = *impl_;
  const int64_t ts = static_cast<int64_t>(std::floor(std::max(0.0, seconds) / m.tb));
  const int rc = av_seek_frame(m.fmt.get(), m.si, ts, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) return DataLoss(path_ + ": cannot seek to " + std::to_string(seconds) + " s (" + AvError(rc) + ")");
  avcodec_flush_buffers(m.ctx);
  m.have_frame = false;
  m.eof = false;
  return Status::Ok();
}

Status VideoDecoder::ToImage(io::Image* out) {
  Impl& m = *impl_;
  const int w = m.frame->width, h = m.frame->height;
  if (w <= 0 || h <= 0) return DataLoss(path_ + ": decoded frame without a size");
  m.sws = sws_getCachedContext(m.sws, w, h, static_cast<AVPixelFormat>(m.frame->format), w, h, AV_PIX_FMT_RGB24,
                               SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!m.sws) return DataLoss(path_ + ": cannot convert pixel format to RGB");
  out->width = w;
  out->height = h;
  out->pixels.resize(static_cast<size_t>(w) * h * 3);
  uint8_t* dst[1] = {out->pixels.data()};
  const int stride[1] = {3 * w};
  sws_scale(m.sws, m.frame->data, m.frame->linesize, 0, h, dst, stride);
  return Status::Ok();
}

Status VideoDecoder::FrameAt(double seconds, double tolerance_s, io::Image* out, double* pts_s) {
  Impl& m = *impl_;
  const double frame_dt = info_.fps_exact > 0 ? 1.0 / info_.fps_exact : 1.0 / 30;
  // Decode forward from the current position when the target is just ahead; seek otherwise.
  const bool forward = m.have_frame && seconds >= m.frame_s - 1e-9 && seconds - m.frame_s < 2.0;
  if (!forward) EMBODY_TRY(Seek(seconds - frame_dt / 2));
  double best_diff = 1e300, best_s = 0;
  io::Image best;
  bool got = false;
  while (true) {
    if (!m.have_frame) {
      EMBODY_ASSIGN_OR_RETURN(bool ok, Next());
      if (!ok) break;
    }
    const double diff = std::fabs(m.frame_s - seconds);
    if (diff < best_diff) {
      best_diff = diff;
      best_s = m.frame_s;
      EMBODY_TRY(ToImage(&best));
      got = true;
    }
    if (m.frame_s >= seconds - frame_dt / 4) break;  // this frame or the one before was the closest
    m.have_frame = false;
  }
  if (!got) return OutOfRange(path_ + ": no frame at or after " + std::to_string(seconds) + " s");
  if (pts_s) *pts_s = best_s;
  if (best_diff > tolerance_s) {
    char buf[256];
    std::snprintf(buf, sizeof buf, ": no frame within %.6g s of %.6f s (closest at %.6f s)", tolerance_s, seconds,
                  best_s);
    return OutOfRange(path_ + buf);
  }
  *out = std::move(best);
  return Status::Ok();
}

Status VideoDecoder::ForEachFrame(const std::function<bool(int64_t, double, const io::Image&)>& fn) {
  EMBODY_TRY(Seek(0));
  io::Image img;
  for (int64_t i = 0;; ++i) {
    EMBODY_ASSIGN_OR_RETURN(bool ok, Next());
    if (!ok) return Status::Ok();
    EMBODY_TRY(ToImage(&img));
    impl_->have_frame = false;
    if (!fn(i, impl_->frame_s, img)) return Status::Ok();
  }
}

}  // namespace embody::data
