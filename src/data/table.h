// Table: embody's own columnar table, the only form in which Parquet data crosses the data
// module's boundary. parquet.{h,cc} converts it to and from Apache Arrow; nothing else in embody
// includes Arrow.
//
// A column holds one value type and an optional list structure per row:
//   * scalar            one value per row                         (timestamp, episode_index)
//   * fixed list [N]    exactly N values per row                  (action, observation.state)
//   * variable list     any number of values per row              (tasks, v2.1 Sequence columns)
//   * nested lists      stats columns of images: shape (3,1,1)    (list<list<list<double>>>)
// Values of all rows are stored flat, row after row, in the vector that matches the type;
// `offsets` (num_rows + 1 entries) gives each row's range for list columns.
//
// Thread safety: plain values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace embody::data {

enum class ValueType { kBool, kInt64, kFloat32, kFloat64, kString, kBinary };
std::string_view ValueTypeName(ValueType t);

// How a column's rows are laid out (see the file comment).
enum class ListKind {
  kScalar,    // one value per row; offsets empty
  kFixed,     // Arrow fixed_size_list<T>[shape[0]] (nested when shape has more dims)
  kVariable,  // Arrow list<T> (nested list<list<...>> when shape has more than one dim)
};

struct Column {
  std::string name;
  ValueType type = ValueType::kFloat32;
  ListKind list = ListKind::kScalar;
  // Per-row shape for lists: {N} or {3,1,1}. For kVariable read from a file: the first row's
  // shape (rows may differ in their outer length; offsets are authoritative).
  std::vector<int64_t> shape;

  // Values, flat. Exactly one of these is used, by `type`: kBool -> u8, kInt64 -> i64,
  // kFloat32 -> f32, kFloat64 -> f64, kString/kBinary -> str.
  std::vector<uint8_t> u8;
  std::vector<int64_t> i64;
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<std::string> str;
  // List columns: num_rows + 1 entries; row r owns values [offsets[r], offsets[r+1]).
  std::vector<int64_t> offsets;
  // Empty when every row is valid; else one byte per row (0 = null). Null rows hold zero values
  // (scalars) or no values (lists).
  std::vector<uint8_t> valid;

  int64_t num_rows() const;
  int64_t num_values() const;
  bool is_null(int64_t row) const { return !valid.empty() && valid[static_cast<size_t>(row)] == 0; }
  bool has_nulls() const;
  // Values of row r: [begin, end). Scalars: [r, r+1).
  int64_t row_begin(int64_t r) const { return list == ListKind::kScalar ? r : offsets[static_cast<size_t>(r)]; }
  int64_t row_end(int64_t r) const { return list == ListKind::kScalar ? r + 1 : offsets[static_cast<size_t>(r) + 1]; }
  // Numeric value i (any numeric type) as double. REQUIRES: numeric type, i < num_values().
  double number(int64_t i) const;

  // Builders: append one row.
  void AppendInt64(int64_t v);
  void AppendDouble(double v);  // by type: kFloat32 / kFloat64 / kInt64 (truncates) / kBool
  void AppendString(std::string v);
  // A list row of numbers; for kFixed the count must equal the product of shape.
  void AppendNumbers(const double* v, int64_t n);
  void AppendNumbers(const float* v, int64_t n);
  void AppendStrings(const std::vector<std::string>& v);
};

// Factory helpers for columns the writer emits.
Column ScalarColumn(std::string name, ValueType type);
Column FixedListColumn(std::string name, ValueType type, std::vector<int64_t> shape);
Column VariableListColumn(std::string name, ValueType type, std::vector<int64_t> shape = {});

struct Table {
  std::vector<Column> columns;
  // Key-value metadata of the file's schema (e.g. "huggingface", "pandas").
  std::map<std::string, std::string> metadata;

  int64_t num_rows() const { return columns.empty() ? 0 : columns[0].num_rows(); }
  const Column* Find(const std::string& name) const;
  Column* Find(const std::string& name);
  // Every column has num_rows() rows and consistent offsets/values; names are unique.
  Status Validate() const;
  // Appends rows [begin, end) of `other` (same columns, same order and types).
  Status AppendRows(const Table& other, int64_t begin, int64_t end);
  // Rows [begin, end) as a new table.
  Table Slice(int64_t begin, int64_t end) const;
};

}  // namespace embody::data
