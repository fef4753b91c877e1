#include "train/torch_tensors.h"

#include <cstring>

#include "io/safetensors.h"

namespace embody::train {

Tensor ToEmbody(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  DType dt = DType::kF32;
  if (c.scalar_type() == torch::kUInt8) dt = DType::kU8;
  else if (c.scalar_type() == torch::kInt64) dt = DType::kI64;
  else if (c.scalar_type() != torch::kFloat32) c = c.to(torch::kFloat32);
  std::vector<int64_t> dims(c.sizes().begin(), c.sizes().end());
  Tensor out = Tensor::Empty(dt, Shape(dims));
  std::memcpy(out.raw(), c.data_ptr(), out.nbytes());
  return out;
}

torch::Tensor ToTorch(const Tensor& t) {
  std::vector<int64_t> dims;
  for (int i = 0; i < t.rank(); ++i) dims.push_back(t.dim(i));
  auto type = t.dtype() == DType::kU8 ? torch::kUInt8 : t.dtype() == DType::kI64 ? torch::kInt64 : torch::kFloat32;
  return torch::from_blob(t.raw(), dims, type).clone();
}

std::vector<std::pair<std::string, torch::Tensor>> StateDict(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& p : m.named_buffers(true)) out.emplace_back(p.key(), p.value());
  return out;
}

NamedTensors StateDictCopy(torch::nn::Module& m) {
  NamedTensors out;
  for (const auto& [name, t] : StateDict(m)) out.emplace_back(name, ToEmbody(t));
  return out;
}

Status LoadStateDict(torch::nn::Module& m, const std::string& path, const std::set<std::string>& optional) {
  EMBODY_ASSIGN_OR_RETURN(auto file, io::SafetensorsFile::Open(path));
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : StateDict(m)) {
    if (optional.count(name) && !file->Find(name)) continue;
    const Shape shape(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
    EMBODY_ASSIGN_OR_RETURN(Tensor w, file->ReadF32(name, &shape));
    t.copy_(torch::from_blob(w.raw(), t.sizes(), torch::kFloat32));
  }
  return Status::Ok();
}

}  // namespace embody::train
