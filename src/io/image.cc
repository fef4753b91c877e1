#include "io/image.h"

#include <cstring>

#include "stb/stb_image.h"
#include "stb/stb_image_write.h"

namespace embody::io {

Result<Image> LoadImage(const std::string& path) {
  int w = 0, h = 0, channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &channels, 3);
  if (!data) {
    const char* why = stbi_failure_reason();
    return InvalidArgument(path + ": cannot decode image: " + (why ? why : "unknown reason"));
  }
  Image img;
  img.height = h;
  img.width = w;
  img.pixels.assign(data, data + static_cast<size_t>(w) * static_cast<size_t>(h) * 3);
  stbi_image_free(data);
  return img;
}

Status SavePng(const std::string& path, const Image& image) {
  if (image.pixels.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3)
    return InvalidArgument(path + ": image buffer does not match its size");
  if (!stbi_write_png(path.c_str(), image.width, image.height, 3, image.pixels.data(), image.width * 3))
    return IoError(path + ": cannot write PNG");
  return Status::Ok();
}

}  // namespace embody::io
