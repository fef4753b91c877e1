#include "data/table.h"

#include <algorithm>

namespace embody::data {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kBool: return "bool";
    case ValueType::kInt64: return "int64";
    case ValueType::kFloat32: return "float32";
    case ValueType::kFloat64: return "float64";
    case ValueType::kString: return "string";
    case ValueType::kBinary: return "binary";
  }
  return "?";
}

int64_t Column::num_values() const {
  switch (type) {
    case ValueType::kBool: return static_cast<int64_t>(u8.size());
    case ValueType::kInt64: return static_cast<int64_t>(i64.size());
    case ValueType::kFloat32: return static_cast<int64_t>(f32.size());
    case ValueType::kFloat64: return static_cast<int64_t>(f64.size());
    case ValueType::kString:
    case ValueType::kBinary: return static_cast<int64_t>(str.size());
  }
  return 0;
}

int64_t Column::num_rows() const {
  if (list == ListKind::kScalar) return num_values();
  return offsets.empty() ? 0 : static_cast<int64_t>(offsets.size()) - 1;
}

bool Column::has_nulls() const {
  return std::any_of(valid.begin(), valid.end(), [](uint8_t v) { return v == 0; });
}

double Column::number(int64_t i) const {
  const auto k = static_cast<size_t>(i);
  switch (type) {
    case ValueType::kBool: return u8[k];
    case ValueType::kInt64: return static_cast<double>(i64[k]);
    case ValueType::kFloat32: return f32[k];
    case ValueType::kFloat64: return f64[k];
    default: return 0;
  }
}

namespace {
void PushValue(Column& c, double v) {
  switch (c.type) {
    case ValueType::kBool: c.u8.push_back(v != 0); break;
    case ValueType::kInt64: c.i64.push_back(static_cast<int64_t>(v)); break;
    case ValueType::kFloat32: c.f32.push_back(static_cast<float>(v)); break;
    case ValueType::kFloat64: c.f64.push_back(v); break;
    default: c.str.push_back(std::to_string(v)); break;
  }
}
void EndRow(Column& c) {
  if (c.list == ListKind::kScalar) return;
  if (c.offsets.empty()) c.offsets.push_back(0);
  c.offsets.push_back(c.num_values());
}
}  // namespace

void Column::AppendInt64(int64_t v) {
  if (type == ValueType::kInt64) i64.push_back(v);
  else PushValue(*this, static_cast<double>(v));
  EndRow(*this);
}
void Column::AppendDouble(double v) {
  PushValue(*this, v);
  EndRow(*this);
}
void Column::AppendString(std::string v) {
  str.push_back(std::move(v));
  EndRow(*this);
}
void Column::AppendNumbers(const double* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) PushValue(*this, v[i]);
  EndRow(*this);
}
void Column::AppendNumbers(const float* v, int64_t n) {
  if (type == ValueType::kFloat32) {
    f32.insert(f32.end(), v, v + n);
  } else {
    for (int64_t i = 0; i < n; ++i) PushValue(*this, v[i]);
  }
  EndRow(*this);
}
void Column::AppendStrings(const std::vector<std::string>& v) {
  str.insert(str.end(), v.begin(), v.end());
  EndRow(*this);
}

Column ScalarColumn(std::string name, ValueType type) {
  Column c;
  c.name = std::move(name);
  c.type = type;
  return c;
}
Column FixedListColumn(std::string name, ValueType type, std::vector<int64_t> shape) {
  Column c = ScalarColumn(std::move(name), type);
  c.list = ListKind::kFixed;
  c.shape = std::move(shape);
  c.offsets.push_back(0);
  return c;
}
Column VariableListColumn(std::string name, ValueType type, std::vector<int64_t> shape) {
  Column c = ScalarColumn(std::move(name), type);
  c.list = ListKind::kVariable;
  c.shape = std::move(shape);
  c.offsets.push_back(0);
  return c;
}

const Column* Table::Find(const std::string& name) const {
  for (const Column& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}
Column* Table::Find(const std::string& name) {
  for (Column& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

Status Table::Validate() const {
  const int64_t rows = num_rows();
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    for (size_t j = 0; j < i; ++j)
      if (columns[j].name == c.name) return InvalidArgument("table: duplicate column '" + c.name + "'");
    if (c.num_rows() != rows)
      return InvalidArgument("table: column '" + c.name + "' has " + std::to_string(c.num_rows()) + " rows, expected " +
                             std::to_string(rows));
    if (!c.valid.empty() && static_cast<int64_t>(c.valid.size()) != rows)
      return InvalidArgument("table: column '" + c.name + "' validity size mismatch");
    if (c.list != ListKind::kScalar) {
      if (c.offsets.empty() || c.offsets.front() != 0 || c.offsets.back() != c.num_values())
        return InvalidArgument("table: column '" + c.name + "' offsets do not cover its values");
      for (size_t r = 1; r < c.offsets.size(); ++r)
        if (c.offsets[r] < c.offsets[r - 1]) return InvalidArgument("table: column '" + c.name + "' offsets decrease");
      if (c.list == ListKind::kFixed) {
        int64_t n = 1;
        for (int64_t d : c.shape) n *= d;
        if (c.shape.empty() || n <= 0) return InvalidArgument("table: fixed list column '" + c.name + "' has no shape");
        for (size_t r = 1; r < c.offsets.size(); ++r)
          if (c.offsets[r] - c.offsets[r - 1] != n && !c.is_null(static_cast<int64_t>(r) - 1))
            return InvalidArgument("table: column '" + c.name + "' row " + std::to_string(r - 1) + " has " +
                                   std::to_string(c.offsets[r] - c.offsets[r - 1]) + " values, shape needs " +
                                   std::to_string(n));
      }
    }
  }
  return Status::Ok();
}

namespace {
template <typename V>
void AppendRange(V& dst, const V& src, int64_t b, int64_t e) {
  dst.insert(dst.end(), src.begin() + b, src.begin() + e);
}
void AppendValues(Column& dst, const Column& src, int64_t b, int64_t e) {
  switch (src.type) {
    case ValueType::kBool: AppendRange(dst.u8, src.u8, b, e); break;
    case ValueType::kInt64: AppendRange(dst.i64, src.i64, b, e); break;
    case ValueType::kFloat32: AppendRange(dst.f32, src.f32, b, e); break;
    case ValueType::kFloat64: AppendRange(dst.f64, src.f64, b, e); break;
    case ValueType::kString:
    case ValueType::kBinary: AppendRange(dst.str, src.str, b, e); break;
  }
}
}  // namespace

Status Table::AppendRows(const Table& other, int64_t begin, int64_t end) {
  if (columns.empty() && num_rows() == 0) {
    *this = other.Slice(begin, end);
    return Status::Ok();
  }
  if (other.columns.size() != columns.size()) return InvalidArgument("table: appending rows with different columns");
  for (size_t i = 0; i < columns.size(); ++i) {
    Column& d = columns[i];
    const Column& s = other.columns[i];
    if (d.name != s.name || d.type != s.type || d.list != s.list)
      return InvalidArgument("table: column '" + s.name + "' differs from '" + d.name + "'");
  }
  const int64_t rows_before = num_rows();
  for (size_t i = 0; i < columns.size(); ++i) {
    Column& d = columns[i];
    const Column& s = other.columns[i];
    if (!s.valid.empty() || !d.valid.empty()) {
      if (d.valid.empty()) d.valid.assign(static_cast<size_t>(rows_before), 1);
      for (int64_t r = begin; r < end; ++r) d.valid.push_back(s.is_null(r) ? 0 : 1);
    }
    AppendValues(d, s, s.row_begin(begin), s.row_begin(end));
    if (s.list != ListKind::kScalar) {
      if (d.offsets.empty()) d.offsets.push_back(0);
      const int64_t base = d.offsets.back() - s.offsets[static_cast<size_t>(begin)];
      for (int64_t r = begin + 1; r <= end; ++r) d.offsets.push_back(s.offsets[static_cast<size_t>(r)] + base);
    }
  }
  return Status::Ok();
}

Table Table::Slice(int64_t begin, int64_t end) const {
  Table t;
  t.metadata = metadata;
  for (const Column& s : columns) {
    Column d;
    d.name = s.name;
    d.type = s.type;
    d.list = s.list;
    d.shape = s.shape;
    AppendValues(d, s, s.row_begin(begin), begin < end ? s.row_end(end - 1) : s.row_begin(begin));
    if (s.list != ListKind::kScalar) {
      const int64_t base = s.offsets[static_cast<size_t>(begin)];
      for (int64_t r = begin; r <= end; ++r) d.offsets.push_back(s.offsets[static_cast<size_t>(r)] - base);
    }
    if (!s.valid.empty()) d.valid.assign(s.valid.begin() + begin, s.valid.begin() + end);
    t.columns.push_back(std::move(d));
  }
  return t;
}

}  // namespace embody::data
