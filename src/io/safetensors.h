// safetensors: read (mmap, validated) and write (atomic) the format LeRobot checkpoints use.
//
// Format: u64 little-endian header length N, then N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"k": "v"}}
// then the data section; offsets are relative to its start.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace embody::io {

struct TensorEntry {
  std::string name;
  DType dtype;
  Shape shape;
  size_t offset;  // into the data section
  size_t nbytes;
};

// A validated, read-only, memory-mapped safetensors file.
// Thread safety: immutable after Open(); share freely.
class SafetensorsFile {
 public:
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // Maps `path` and validates the header: JSON well-formed, known dtypes, offsets inside the
  // file, byte sizes equal to shape x dtype, no overlaps. Errors name the file and tensor.
  static Result<std::shared_ptr<SafetensorsFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // Entries in the order the header lists them.
  const std::vector<TensorEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // nullptr when absent.
  const TensorEntry* Find(const std::string& name) const;
  // A view into the mapping; valid while this file object lives. NotFound names the file.
  Result<Tensor> View(const std::string& name) const;
  // A float32 copy (widening F16/BF16), checked against an expected shape if one is given.
  Result<Tensor> ReadF32(const std::string& name, const Shape* expected = nullptr) const;
  size_t file_bytes() const { return size_; }
  // Tells the kernel the mapped pages of `name` are no longer needed (after copying them into
  // packed weights), so resident memory does not hold both copies while a model loads.
  void DropPages(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  const char* map_ = nullptr;
  size_t size_ = 0;
  const char* data_ = nullptr;
  std::vector<TensorEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Collects tensors and writes them as one safetensors file.
class SafetensorsWriter {
 public:
  // The tensor must stay alive until Write(). REQUIRES: contiguous; name unique.
  void Add(const std::string& name, const Tensor& tensor);
  void SetMetadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // Writes to `path` + ".tmp", fsyncs, renames over `path`: a crash never leaves a torn file.
  Status Write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, Tensor>> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace embody::io
