// WeightTable: the tensors a model expects (LeRobot state_dict key and shape), checked against a
// safetensors file in one pass so that every missing or mis-shaped tensor is reported at once.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/safetensors.h"

namespace embody::models {

class WeightTable {
 public:
  // Declares a required tensor.
  void Expect(const std::string& key, const Shape& shape);
  // Tensors a quantized checkpoint carries as packed ops instead: their absence from the file is
  // fine, and reading them is an error (the op factory never does). Call before Bind().
  void SetSuperseded(std::set<std::string> keys) { superseded_ = std::move(keys); }

  // Checks the file: all expected keys present with the expected shapes and a float dtype.
  // Keys are matched after removing torch.compile's "._orig_mod" infix. Returns one error that
  // lists every problem. On success, unused() lists file tensors the model does not need.
  Status Bind(std::shared_ptr<const io::SafetensorsFile> file);

  // A float32 copy of an expected tensor. REQUIRES: Bind() succeeded and key was Expect()ed.
  Result<Tensor> ReadF32(const std::string& key) const;

  const std::vector<std::string>& unused() const { return unused_; }
  int64_t ExpectedElements(const std::string& prefix) const;
  const std::vector<std::pair<std::string, Shape>>& expected() const { return expected_; }
  // The declared shape of `key`; nullptr if it was not Expect()ed.
  const Shape* ExpectedShape(const std::string& key) const;
  // The rows of several [rows_i, k] weights stacked into one [sum rows_i, k] float32 matrix
  // (fused projections such as q|k|v or gate|up).
  Result<std::vector<float>> ReadStacked(const std::vector<std::string>& keys) const;
  // Drops the file (and its mapping) once every weight has been read and packed.
  void ReleaseFile() { file_.reset(); }
  // The dtype the file stores `key` in.
  DType StoredType(const std::string& key) const;

 private:
  std::vector<std::pair<std::string, Shape>> expected_;
  std::shared_ptr<const io::SafetensorsFile> file_;
  std::map<std::string, std::string> file_name_;  // canonical key -> name in the file
  std::vector<std::string> unused_;
  std::set<std::string> superseded_;
};

}  // namespace embody::models
