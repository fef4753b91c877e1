#include "models/common/weight_table.h"

#include <set>

namespace embody::models {

namespace {
std::string Canonical(std::string name) {
  const std::string infix = "._orig_mod";
  for (size_t p; (p = name.find(infix)) != std::string::npos;) name.erase(p, infix.size());
  return name;
}
}  // namespace

void WeightTable::Expect(const std::string& key, const Shape& shape) { expected_.emplace_back(key, shape); }

Status WeightTable::Bind(std::shared_ptr<const io::SafetensorsFile> file) {
  file_ = std::move(file);
  file_name_.clear();
  unused_.clear();
  for (const auto& e : file_->entries()) file_name_[Canonical(e.name)] = e.name;
  std::vector<std::string> problems;
  std::set<std::string> used;
  for (const auto& [key, shape] : expected_) {
    auto it = file_name_.find(key);
    if (it == file_name_.end() && superseded_.count(key)) continue;
    if (it == file_name_.end()) {
      problems.push_back("missing tensor '" + key + "' " + shape.ToString());
      continue;
    }
    used.insert(key);
    const io::TensorEntry* e = file_->Find(it->second);
    if (e->shape != shape)
      problems.push_back("tensor '" + key + "' has shape " + e->shape.ToString() + ", expected " + shape.ToString());
    if (e->dtype != DType::kF32 && e->dtype != DType::kBF16 && e->dtype != DType::kF16)
      problems.push_back("tensor '" + key + "' has dtype " + std::string(DTypeName(e->dtype)) +
                         ", expected F32, BF16 or F16");
  }
  for (const auto& [canon, name] : file_name_)
    if (!used.count(canon)) unused_.push_back(name);
  if (problems.empty()) return Status::Ok();
  std::string msg = file_->path() + ": " + std::to_string(problems.size()) +
                    " problem(s) binding the checkpoint to the model config:";
  const size_t shown = std::min<size_t>(problems.size(), 20);
  for (size_t i = 0; i < shown; ++i) msg += "\n  - " + problems[i];
  if (shown < problems.size()) msg += "\n  - ... and " + std::to_string(problems.size() - shown) + " more";
  return InvalidArgument(msg);
}

Result<Tensor> WeightTable::ReadF32(const std::string& key) const {
  auto it = file_name_.find(key);
  if (!file_ || it == file_name_.end()) {
    if (superseded_.count(key)) return FailedPrecondition("weight '" + key + "' exists only as a quantized op");
    return NotFound("weight '" + key + "' is not bound");
  }
  auto t = file_->ReadF32(it->second);
  file_->DropPages(it->second);
  return t;
}

Result<std::vector<float>> WeightTable::ReadStacked(const std::vector<std::string>& keys) const {
  std::vector<float> out;
  for (const auto& key : keys) {
    EMBODY_ASSIGN_OR_RETURN(Tensor t, ReadF32(key));
    out.insert(out.end(), t.data<float>(), t.data<float>() + t.numel());
  }
  return out;
}

const Shape* WeightTable::ExpectedShape(const std::string& key) const {
  for (const auto& [k, shape] : expected_) {
    if (k == key) return &shape;
  }
  return nullptr;
}

DType WeightTable::StoredType(const std::string& key) const {
  auto it = file_name_.find(key);
  if (!file_ || it == file_name_.end()) return DType::kF32;
  return file_->Find(it->second)->dtype;
}

int64_t WeightTable::ExpectedElements(const std::string& prefix) const {
  int64_t n = 0;
  for (const auto& [key, shape] : expected_)
    if (key.rfind(prefix, 0) == 0) n += shape.numel();
  return n;
}

}  // namespace embody::models
