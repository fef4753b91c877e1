// Parquet files through Apache Arrow C++ (the library pyarrow, and so LeRobot, writes with),
// behind embody's own Table. Only parquet.cc includes Arrow headers.
//
// Errors: kNotFound (no such file), kDataLoss (not Parquet, truncated, corrupt page, a type the
// Table cannot hold), kIoError (the OS refused a write); every message names the file, and the
// column when one is at fault. Readers never abort on bad input.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/table.h"

namespace embody::data {

struct ParquetWriteOptions {
  // "snappy" (LeRobot's choice), "zstd", "gzip" or "none".
  std::string compression = "snappy";
  bool use_dictionary = true;  // pyarrow's default, and LeRobot's
  // Rows per row group, in order; their sum must equal the table's rows. Empty: one group.
  // LeRobot writes one row group per episode.
  std::vector<int64_t> row_groups;
};

// Writes `table` to `path` atomically: into "<path>.tmp", fsync, rename. On failure the old
// file (if any) is untouched and the temporary is removed.
Status WriteParquet(const std::string& path, const Table& table, const ParquetWriteOptions& options = {});

// An open Parquet file: the footer is parsed, column data is read on demand.
// Thread safety: one thread at a time per object.
class ParquetFile {
 public:
  static Result<std::unique_ptr<ParquetFile>> Open(const std::string& path);
  ~ParquetFile();
  ParquetFile(const ParquetFile&) = delete;
  ParquetFile& operator=(const ParquetFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t num_rows() const;
  int num_row_groups() const;
  int64_t row_group_rows(int i) const;  // REQUIRES: 0 <= i < num_row_groups()
  std::vector<std::string> column_names() const;
  // Schema key-value metadata ("huggingface", "pandas", "ARROW:schema" excluded).
  std::map<std::string, std::string> metadata() const;

  // Reads the named columns (all when empty) of row groups [first, first + count) into a
  // Table, columns in the requested order. kNotFound if a named column is absent.
  Result<Table> Read(const std::vector<std::string>& columns = {}, int first_group = 0, int group_count = -1);

 private:
  struct Impl;
  explicit ParquetFile(std::string path);
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

// Convenience: open and read everything.
Result<Table> ReadParquet(const std::string& path, const std::vector<std::string>& columns = {});

}  // namespace embody::data
