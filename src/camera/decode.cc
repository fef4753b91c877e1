#include "camera/decode.h"

#include <csetjmp>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include <jpeglib.h>

namespace embody::camera {

namespace {

// libjpeg reports errors through a callback that must not return: jump back to the caller.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void OnWarning(j_common_ptr, int) {}  // corrupt-data warnings: the frame still decodes

inline uint8_t Clamp8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

}  // namespace

struct JpegDecoder::State {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  std::vector<JSAMPROW> rows;
};

JpegDecoder::JpegDecoder() : state_(std::make_unique<State>()) {
  state_->cinfo.err = jpeg_std_error(&state_->err.pub);
  state_->err.pub.error_exit = OnError;
  state_->err.pub.emit_message = OnWarning;
  jpeg_create_decompress(&state_->cinfo);
}

JpegDecoder::~JpegDecoder() { jpeg_destroy_decompress(&state_->cinfo); }

Status JpegDecoder::Decode(std::span<const uint8_t> jpeg, Frame* out, bool fast) {
  jpeg_decompress_struct& cinfo = state_->cinfo;
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return DataLoss("not a JPEG frame (no SOI marker)");
  // Nothing with a destructor may live between setjmp and a longjmp back here.
  if (setjmp(state_->err.jump)) {
    jpeg_abort_decompress(&cinfo);
    return DataLoss(std::string("corrupt JPEG frame: ") + state_->err.message);
  }
  jpeg_mem_src(&cinfo, jpeg.data(), static_cast<unsigned long>(jpeg.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = fast ? JDCT_IFAST : JDCT_ISLOW;
  cinfo.do_fancy_upsampling = fast ? FALSE : TRUE;
  jpeg_start_decompress(&cinfo);
  out->Resize(static_cast<int>(cinfo.output_width), static_cast<int>(cinfo.output_height));
  const size_t stride = static_cast<size_t>(cinfo.output_width) * 3;
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->rgb.data() + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  return Status::Ok();
}

void YuyvToRgb(std::span<const uint8_t> yuyv, int width, int height, uint8_t* rgb) {
  // BT.601 limited range, fixed point (x256): R = 1.164(Y-16) + 1.596 V', G = ... - 0.391 U' - 0.813 V',
  // B = ... + 2.018 U'.
  const size_t pairs = static_cast<size_t>(width) * height / 2;
  const uint8_t* s = yuyv.data();
  for (size_t i = 0; i < pairs; ++i, s += 4, rgb += 6) {
    const int u = s[1] - 128, v = s[3] - 128;
    const int ruv = 409 * v + 128, guv = -100 * u - 208 * v + 128, buv = 516 * u + 128;
    for (int k = 0; k < 2; ++k) {
      const int c = 298 * (s[k * 2] - 16);
      rgb[k * 3 + 0] = Clamp8((c + ruv) >> 8);
      rgb[k * 3 + 1] = Clamp8((c + guv) >> 8);
      rgb[k * 3 + 2] = Clamp8((c + buv) >> 8);
    }
  }
}

Result<std::vector<uint8_t>> EncodeJpeg(const uint8_t* rgb, int width, int height, int quality) {
  jpeg_compress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnError;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return Internal(std::string("JPEG encode failed: ") + err.message);
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(rgb) + static_cast<size_t>(cinfo.next_scanline) * width * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

}  // namespace embody::camera
