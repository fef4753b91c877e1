// Contact sheets of an episode's cameras (`embody dataset view`): rows are frames spread over the
// episode, columns the cameras.
#pragma once

#include "core/status.h"
#include "data/reader.h"
#include "io/image.h"

namespace embody::data {

// `rows` frames evenly spaced from the first to the last of `episode`, each row the cameras side
// by side (8-pixel dark gaps). Every image is decoded at its frame's timestamp.
Result<io::Image> EpisodeContactSheet(const Dataset& dataset, int64_t episode, int rows = 4);

}  // namespace embody::data
