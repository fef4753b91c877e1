// Shared pieces of the embody subcommands: printing, progress, parsing helpers.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <map>

#include "core/status.h"
#include "io/image.h"
#include "io/json_file.h"

namespace embody::cli {

// Prints "error: <status>" to stderr and returns the exit code for it.
int Fail(const Status& s);
// Comma-separated floats ("0.1,2,-3").
Result<std::vector<float>> ParseFloats(const std::string& text, const std::string& what);
// A checkpoint input given on the command line as `flag` (e.g. --state): exactly `dim` comma-
// separated floats. Errors name the flag, the feature and the count the checkpoint expects.
Result<std::vector<float>> ParseInputVector(const std::string& text, const std::string& flag, int64_t dim,
                                            const std::string& feature);
// A progress bar on stderr, only when stderr is a terminal or EMBODY_PROGRESS=1 is not needed:
// it always prints, rewriting one line.
class Progress {
 public:
  Progress(std::string label, int total);
  void Step(int done);
  void Finish();

 private:
  std::string label_;
  int total_;
  bool tty_;
};
std::string FormatBytes(double bytes);
// Decodes `--image CAMERA=PATH` arguments into images keyed by feature name; a bare CAMERA
// becomes "observation.images.CAMERA".
Result<std::map<std::string, io::Image>> LoadCameraImages(const std::vector<std::string>& specs);
// The seeded test frame of docs/formats/seeded-weights.md for step `step` and camera `key`.
io::Image SeededImage(int step, const std::string& key, int height, int width);
void PrintJson(const io::Json& j);

}  // namespace embody::cli
