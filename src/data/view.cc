#include "data/view.h"

#include <algorithm>
#include <cstring>

namespace embody::data {

Result<io::Image> EpisodeContactSheet(const Dataset& ds, int64_t episode, int rows) {
  if (episode < 0 || episode >= ds.num_episodes())
    return OutOfRange(ds.root() + ": episode " + std::to_string(episode) + " of " + std::to_string(ds.num_episodes()));
  const std::vector<std::string> cams = ds.info().camera_keys();
  if (cams.empty()) return FailedPrecondition(ds.root() + ": the dataset has no cameras");
  const int64_t len = ds.episodes()[static_cast<size_t>(episode)].length;
  rows = static_cast<int>(std::clamp<int64_t>(rows, 1, len));
  constexpr int kGap = 8;
  auto reader = ds.NewFrameReader();
  std::vector<std::vector<io::Image>> grid;
  int cell_h = 0, cell_w = 0;
  for (int r = 0; r < rows; ++r) {
    const int64_t frame = rows == 1 ? 0 : r * (len - 1) / (rows - 1);
    auto& row = grid.emplace_back();
    for (const std::string& c : cams) {
      EMBODY_ASSIGN_OR_RETURN(io::Image img, reader->Image(c, episode, frame));
      cell_h = std::max(cell_h, img.height);
      cell_w = std::max(cell_w, img.width);
      row.push_back(std::move(img));
    }
  }
  io::Image sheet;
  sheet.width = static_cast<int>(cams.size()) * (cell_w + kGap) - kGap;
  sheet.height = rows * (cell_h + kGap) - kGap;
  sheet.pixels.assign(static_cast<size_t>(sheet.width) * sheet.height * 3, 24);
  for (int r = 0; r < rows; ++r)
    for (size_t c = 0; c < cams.size(); ++c) {
      const io::Image& img = grid[static_cast<size_t>(r)][c];
      const int x0 = static_cast<int>(c) * (cell_w + kGap), y0 = r * (cell_h + kGap);
      for (int y = 0; y < img.height; ++y)
        std::memcpy(&sheet.pixels[(static_cast<size_t>(y0 + y) * sheet.width + x0) * 3],
                    &img.pixels[static_cast<size_t>(y) * img.width * 3], static_cast<size_t>(img.width) * 3);
    }
  return sheet;
}

}  // namespace embody::data
