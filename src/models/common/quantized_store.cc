#include "models/common/quantized_store.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/json_file.h"

namespace embody::models {

namespace fs = std::filesystem;

namespace {

Status Field(const std::string& file, const std::string& what) {
  return DataLoss(file + ": " + what);
}

}  // namespace

Result<std::unique_ptr<QuantizedStore>> QuantizedStore::Open(const std::string& dir, const std::string& model_type) {
  const std::string meta_path = dir + "/" + kQuantMetadataFile;
  if (!io::FileExists(meta_path)) return std::unique_ptr<QuantizedStore>();
  EMBODY_ASSIGN_OR_RETURN(io::Json meta, io::ReadJsonFile(meta_path));
  std::unique_ptr<QuantizedStore> s(new QuantizedStore());
  s->path_ = dir;
  try {
    if (!meta.contains("format_version") || !meta["format_version"].is_number_integer()) {
      return Field(meta_path, "field 'format_version' is missing");
    }
    const int version = meta["format_version"].get<int>();
    if (version != kQuantFormatVersion) {
      return FailedPrecondition(meta_path + ": field 'format_version' is " + std::to_string(version) +
                                "; this embody reads version " + std::to_string(kQuantFormatVersion) +
                                ". Re-run `embody quantize` on the source checkpoint with this version.");
    }
    const std::string type = meta.value("model_type", "");
    if (type != model_type) {
      return InvalidArgument(meta_path + ": field 'model_type' is '" + type + "', expected '" + model_type + "'");
    }
    s->plan_ = meta.value("plan", "");
    s->static_activations_ = meta.value("static_activations", false);
    if (!meta.contains("ops") || !meta["ops"].is_object()) return Field(meta_path, "field 'ops' is missing");
    for (const auto& [id, op] : meta["ops"].items()) {
      StoredOp so;
      so.block = op.at("block").get<std::string>();
      auto f = kernels::ParseWeightFormat(op.at("format").get<std::string>());
      if (!f.ok()) return f.status().WithContext(meta_path + ": ops." + id + ".format");
      so.format = *f;
      so.n = op.at("n").get<int64_t>();
      so.k = op.at("k").get<int64_t>();
      so.conv = op.value("conv", false);
      so.activation_absmax = op.value("activation_absmax", 0.0f);
      if (so.n <= 0 || so.k <= 0) return Field(meta_path, "ops." + id + ": n and k must be positive");
      s->ops_[id] = so;
    }
    for (const auto& k : meta.value("superseded", io::Json::array())) s->superseded_.insert(k.get<std::string>());
  } catch (const std::exception& e) {
    return DataLoss(meta_path + ": " + e.what());
  }
  if (!s->ops_.empty()) {
    EMBODY_ASSIGN_OR_RETURN(s->file_, io::SafetensorsFile::Open(dir + "/quantized.safetensors"));
    for (const auto& [id, op] : s->ops_) {
      if (!s->file_->Find(id + ".packed")) {
        return DataLoss(s->file_->path() + ": tensor '" + id + ".packed' is missing (listed in " + kQuantMetadataFile + ")");
      }
    }
  }
  return s;
}

const StoredOp* QuantizedStore::Find(const std::string& op_id) const {
  auto it = ops_.find(op_id);
  return it == ops_.end() ? nullptr : &it->second;
}

Result<kernels::PackedWeights> QuantizedStore::Packed(const std::string& op_id) const {
  const StoredOp* op = Find(op_id);
  if (!op) return NotFound(path_ + ": no quantized op '" + op_id + "'");
  EMBODY_ASSIGN_OR_RETURN(Tensor data, file_->View(op_id + ".packed"));
  if (data.dtype() != DType::kU8) return DataLoss(file_->path() + ": '" + op_id + ".packed' must be U8");
  kernels::PackedWeights p;
  p.format = op->format;
  p.n = op->n;
  p.k = op->k;
  p.data.assign(data.data<uint8_t>(), data.data<uint8_t>() + data.numel());
  if (file_->Find(op_id + ".scales")) {
    EMBODY_ASSIGN_OR_RETURN(Tensor scales, file_->View(op_id + ".scales"));
    if (scales.dtype() != DType::kF32) return DataLoss(file_->path() + ": '" + op_id + ".scales' must be F32");
    p.scales.assign(scales.data<float>(), scales.data<float>() + scales.numel());
  }
  file_->DropPages(op_id + ".packed");
  EMBODY_TRY(p.Validate().WithContext(file_->path() + ": '" + op_id + "'"));
  return p;
}

Result<std::vector<float>> QuantizedStore::Bias(const std::string& op_id) const {
  if (!file_->Find(op_id + ".bias")) return std::vector<float>();
  EMBODY_ASSIGN_OR_RETURN(Tensor b, file_->ReadF32(op_id + ".bias"));
  const StoredOp* op = Find(op_id);
  if (op && b.numel() != op->n) {
    return DataLoss(file_->path() + ": '" + op_id + ".bias' has " + std::to_string(b.numel()) + " values, expected " +
                    std::to_string(op->n));
  }
  return std::vector<float>(b.data<float>(), b.data<float>() + b.numel());
}

Result<std::string> HashFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return IoError(path + ": cannot open: " + std::strerror(errno));
  uint64_t h = 1469598103934665603ull;
  std::vector<uint64_t> buf(1 << 17);
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size() * 8, f)) > 0) {
    const size_t words = (got + 7) / 8;
    if (got % 8) std::memset(reinterpret_cast<char*>(buf.data()) + got, 0, words * 8 - got);
    for (size_t i = 0; i < words; ++i) h = (h ^ buf[i]) * 1099511628211ull;
    h ^= got;
  }
  const bool err = std::ferror(f);
  std::fclose(f);
  if (err) return IoError(path + ": read error");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex);
}

Result<QuantizeOutput> WriteQuantizedCheckpoint(const std::string& src_dir, const std::string& out_dir,
                                                const std::string& model_type, const std::string& plan_text,
                                                const QuantCapture& capture, bool static_activations) {
  QuantizeOutput out;
  const std::string tmp = out_dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return IoError(tmp + ": cannot create: " + ec.message());
  // Everything in the source folder except the weights travels as is (config, processors,
  // tokenizer); the weights are split below.
  for (const auto& entry : fs::directory_iterator(src_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "model.safetensors" || name == "quantized.safetensors" || name == kQuantMetadataFile) continue;
    fs::copy(entry.path(), tmp + "/" + name, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError(entry.path().string() + ": cannot copy to " + tmp + ": " + ec.message());
  }
  if (ec) return IoError(src_dir + ": cannot list: " + ec.message());

  // A source tensor is superseded when every op reading it is stored packed.
  std::map<std::string, bool> all_packed;
  for (const auto& [id, op] : capture.ops()) {
    const bool packed = !op.packed.data.empty();
    for (const std::string& key : op.source_keys) {
      auto [it, fresh] = all_packed.emplace(key, packed);
      if (!fresh) it->second = it->second && packed;
    }
  }
  std::set<std::string> superseded;
  for (const auto& [key, packed] : all_packed) {
    if (packed) superseded.insert(key);
  }

  const std::string src_model = src_dir + "/model.safetensors";
  EMBODY_ASSIGN_OR_RETURN(auto src, io::SafetensorsFile::Open(src_model));
  io::SafetensorsWriter rest;
  for (const auto& e : src->entries()) {
    if (superseded.count(e.name)) continue;
    EMBODY_ASSIGN_OR_RETURN(Tensor t, src->View(e.name));
    rest.Add(e.name, t);
  }
  for (const auto& [k, v] : src->metadata()) rest.SetMetadata(k, v);
  EMBODY_TRY(rest.Write(tmp + "/model.safetensors"));

  io::SafetensorsWriter q;
  io::Json ops = io::Json::object();
  for (const auto& [id, op] : capture.ops()) {
    if (op.packed.data.empty()) continue;
    q.Add(id + ".packed", Tensor::View(op.packed.data.data(), DType::kU8, Shape({static_cast<int64_t>(op.packed.data.size())})));
    if (!op.packed.scales.empty()) {
      q.Add(id + ".scales", Tensor::View(op.packed.scales.data(), DType::kF32, Shape({static_cast<int64_t>(op.packed.scales.size())})));
    }
    if (!op.bias.empty()) q.Add(id + ".bias", Tensor::View(op.bias.data(), DType::kF32, Shape({static_cast<int64_t>(op.bias.size())})));
    io::Json j;
    j["block"] = op.block;
    j["format"] = kernels::WeightFormatName(op.packed.format);
    j["n"] = op.packed.n;
    j["k"] = op.packed.k;
    j["conv"] = op.conv;
    j["source_keys"] = op.source_keys;
    if (op.activation_absmax > 0) j["activation_absmax"] = op.activation_absmax;
    ops[id] = j;
    ++out.ops_quantized;
  }
  q.SetMetadata("format", "embody-quantized");
  EMBODY_TRY(q.Write(tmp + "/quantized.safetensors"));

  io::Json meta;
  meta["format_version"] = kQuantFormatVersion;
  meta["model_type"] = model_type;
  meta["plan"] = plan_text;
  meta["static_activations"] = static_activations;
  EMBODY_ASSIGN_OR_RETURN(std::string hash, HashFile(src_model));
  meta["source"] = {{"path", fs::absolute(src_dir).string()}, {"model_hash", hash},
                    {"model_bytes", static_cast<int64_t>(src->file_bytes())}};
  meta["ops"] = ops;
  meta["superseded"] = superseded;
  EMBODY_TRY(io::WriteJsonFile(tmp + "/" + kQuantMetadataFile, meta));

  fs::remove_all(out_dir, ec);
  fs::rename(tmp, out_dir, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + out_dir + ": " + ec.message());
  out.model_bytes = static_cast<int64_t>(fs::file_size(out_dir + "/model.safetensors", ec));
  out.quantized_bytes = static_cast<int64_t>(fs::file_size(out_dir + "/quantized.safetensors", ec));
  out.superseded_tensors = static_cast<int64_t>(superseded.size());
  out.source_model_bytes = static_cast<int64_t>(src->file_bytes());
  return out;
}

}  // namespace embody::models
