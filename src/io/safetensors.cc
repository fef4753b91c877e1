#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace embody::io {

namespace {
constexpr size_t kMaxHeaderBytes = 100u << 20;  // same bound the reference implementation uses

std::string Errno() { return std::strerror(errno); }
}  // namespace

SafetensorsFile::~SafetensorsFile() {
  if (map_) munmap(const_cast<char*>(map_), size_);
}

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + Errno());
  }
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError(path + ": cannot stat: " + Errno());
  }
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ < 8) {
    ::close(fd);
    return DataLoss(path + ": truncated safetensors file (" + std::to_string(f->size_) +
                    " bytes, the 8-byte header length is missing)");
  }
  void* m = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return IoError(path + ": mmap failed: " + Errno());
  f->map_ = static_cast<const char*>(m);

  uint64_t header_len = 0;
  std::memcpy(&header_len, f->map_, 8);
  if (header_len > kMaxHeaderBytes || header_len > f->size_ - 8) {
    return DataLoss(path + ": header length " + std::to_string(header_len) +
                    " exceeds the file size " + std::to_string(f->size_) +
                    " (truncated or not a safetensors file)");
  }
  f->data_ = f->map_ + 8 + header_len;
  const size_t data_size = f->size_ - 8 - header_len;

  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(f->map_ + 8, f->map_ + 8 + header_len);
  } catch (const std::exception& e) {
    return DataLoss(path + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) return DataLoss(path + ": header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    const std::string where = path + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!v.is_object()) return DataLoss(path + ": __metadata__ is not an object");
      for (auto m2 = v.begin(); m2 != v.end(); ++m2) {
        if (!m2.value().is_string()) return DataLoss(path + ": __metadata__." + m2.key() + " is not a string");
        f->metadata_[m2.key()] = m2.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      return DataLoss(where + ": entry needs dtype, shape and data_offsets");
    if (!v["dtype"].is_string()) return DataLoss(where + ": dtype is not a string");
    auto dtype = DTypeFromName(v["dtype"].get<std::string>());
    if (!dtype) return Unimplemented(where + ": unsupported dtype " + v["dtype"].get<std::string>());
    if (!v["shape"].is_array() || v["shape"].size() > Shape::kMaxRank)
      return DataLoss(where + ": shape must be an array of at most 6 dims");
    std::vector<int64_t> dims;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) return DataLoss(where + ": shape has a non-integer or negative dim");
      dims.push_back(d.get<int64_t>());
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return DataLoss(where + ": data_offsets must be [begin, end]");
    const size_t begin = off[0].get<size_t>(), end = off[1].get<size_t>();
    Shape shape(dims);
    const size_t expected = static_cast<size_t>(shape.numel()) * DTypeSize(*dtype);
    if (end < begin || end - begin != expected)
      return DataLoss(where + ": data_offsets span " + std::to_string(end - begin) + " bytes, but " +
                      std::string(DTypeName(*dtype)) + " " + shape.ToString() + " needs " +
                      std::to_string(expected));
    if (end > data_size)
      return DataLoss(where + ": data ends at byte " + std::to_string(end) + " but the data section has " +
                      std::to_string(data_size) + " (truncated file)");
    f->index_[name] = f->entries_.size();
    f->entries_.push_back(TensorEntry{name, *dtype, shape, begin, end - begin});
  }
  // No two tensors may share bytes.
  std::vector<const TensorEntry*> by_offset;
  for (const auto& e : f->entries_) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorEntry* a, const TensorEntry* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* prev = by_offset[i - 1];
    if (by_offset[i]->nbytes > 0 && prev->offset + prev->nbytes > by_offset[i]->offset)
      return DataLoss(path + ": tensors '" + prev->name + "' and '" + by_offset[i]->name + "' overlap");
  }
  return f;
}

const TensorEntry* SafetensorsFile::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

Result<Tensor> SafetensorsFile::View(const std::string& name) const {
  const TensorEntry* e = Find(name);
  if (!e) return NotFound(path_ + ": missing tensor '" + name + "'");
  return Tensor::View(data_ + e->offset, e->dtype, e->shape);
}

Result<Tensor> SafetensorsFile::ReadF32(const std::string& name, const Shape* expected) const {
  const TensorEntry* e = Find(name);
  if (!e) return NotFound(path_ + ": missing tensor '" + name + "'");
  if (expected && e->shape != *expected)
    return InvalidArgument(path_ + ": tensor '" + name + "' has shape " + e->shape.ToString() +
                           ", expected " + expected->ToString());
  if (e->dtype != DType::kF32 && e->dtype != DType::kF16 && e->dtype != DType::kBF16)
    return InvalidArgument(path_ + ": tensor '" + name + "' has dtype " + std::string(DTypeName(e->dtype)) +
                           ", expected a float type");
  Tensor t = Tensor::Empty(DType::kF32, e->shape);
  ConvertToF32(e->dtype, data_ + e->offset, t.data<float>(), static_cast<size_t>(e->shape.numel()));
  return t;
}

void SafetensorsFile::DropPages(const std::string& name) const {
  const TensorEntry* e = Find(name);
  if (!e || e->nbytes == 0) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data_ + e->offset);
  const uintptr_t end = begin + e->nbytes;
  // Only whole pages inside the tensor: neighbours may still be needed.
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

void SafetensorsWriter::Add(const std::string& name, const Tensor& tensor) {
  tensors_.emplace_back(name, tensor);
}

Status SafetensorsWriter::Write(const std::string& path) const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata_) meta[k] = v;
    header["__metadata__"] = meta;
  }
  size_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    if (!t.is_contiguous()) return InvalidArgument("safetensors writer: tensor '" + name + "' is not contiguous");
    header[name] = {{"dtype", std::string(DTypeName(t.dtype()))},
                    {"shape", t.shape().vec()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');  // keeps the data section 8-aligned

  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return IoError(tmp + ": cannot create: " + Errno());
  const uint64_t len = text.size();
  bool ok = std::fwrite(&len, 8, 1, f) == 1 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto& [name, t] : tensors_) {
    if (!ok) break;
    ok = t.nbytes() == 0 || std::fwrite(t.raw(), 1, t.nbytes(), f) == t.nbytes();
  }
  ok = ok && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const std::string err = ok ? "" : Errno();
  std::fclose(f);
  if (!ok) {
    std::remove(tmp.c_str());
    return IoError(path + ": write failed: " + err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return IoError(path + ": rename failed: " + Errno());
  return Status::Ok();
}

}  // namespace embody::io
