#include "sim/contact_sheet.h"

#include <algorithm>
#include <cstring>

namespace embody::sim {

io::Image ContactSheet(const std::vector<io::Image>& images, int gap) {
  io::Image sheet;
  for (const io::Image& im : images) {
    sheet.width += im.width;
    sheet.height = std::max(sheet.height, im.height);
  }
  if (images.empty()) return sheet;
  sheet.width += gap * static_cast<int>(images.size() - 1);
  sheet.pixels.assign(static_cast<size_t>(sheet.height) * sheet.width * 3, 24);
  int x0 = 0;
  for (const io::Image& im : images) {
    for (int y = 0; y < im.height; ++y)
      std::memcpy(sheet.pixels.data() + (static_cast<size_t>(y) * sheet.width + x0) * 3,
                  im.pixels.data() + static_cast<size_t>(y) * im.width * 3, static_cast<size_t>(im.width) * 3);
    x0 += im.width + gap;
  }
  return sheet;
}

}  // namespace embody::sim
