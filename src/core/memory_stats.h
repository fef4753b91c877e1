// Process memory figures for benchmarks and `embody info`.
#pragma once

#include <cstddef>

namespace embody {

// Peak resident set size of this process so far (getrusage), in bytes.
size_t PeakRssBytes();
// Current resident set size (/proc/self/statm), in bytes; 0 where unavailable.
size_t CurrentRssBytes();

}  // namespace embody
