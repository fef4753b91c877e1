// The only file in embody that includes Apache Arrow. Converts data::Table <-> arrow::Table and
// turns every Arrow status and Parquet exception into an embody Status naming the file.
#include "data/parquet.h"

#include <fcntl.h>
#include <unistd.h>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>

#include <cstdio>
#include <filesystem>

namespace embody::data {

namespace {

Status FromArrow(const arrow::Status& s, const std::string& path, StatusCode code = StatusCode::kDataLoss) {
  if (s.ok()) return Status::Ok();
  if (s.IsIOError() && code == StatusCode::kIoError) return IoError(path + ": " + s.ToString());
  return Status(code, path + ": " + s.ToString());
}

// ---- writing ----

arrow::Result<std::shared_ptr<arrow::Array>> LeafArray(const Column& c) {
  switch (c.type) {
    case ValueType::kBool: {
      arrow::BooleanBuilder b;
      ARROW_RETURN_NOT_OK(b.AppendValues(c.u8));
      return b.Finish();
    }
    case ValueType::kInt64: {
      arrow::Int64Builder b;
      ARROW_RETURN_NOT_OK(b.AppendValues(c.i64));
      return b.Finish();
    }
    case ValueType::kFloat32: {
      arrow::FloatBuilder b;
      ARROW_RETURN_NOT_OK(b.AppendValues(c.f32));
      return b.Finish();
    }
    case ValueType::kFloat64: {
      arrow::DoubleBuilder b;
      ARROW_RETURN_NOT_OK(b.AppendValues(c.f64));
      return b.Finish();
    }
    case ValueType::kString: {
      arrow::StringBuilder b;
      ARROW_RETURN_NOT_OK(b.AppendValues(c.str));
      return b.Finish();
    }
    case ValueType::kBinary: {
      arrow::BinaryBuilder b;
      for (const std::string& s : c.str) ARROW_RETURN_NOT_OK(b.Append(s));
      return b.Finish();
    }
  }
  return arrow::Status::Invalid("unknown type");
}

arrow::Result<std::shared_ptr<arrow::Array>> Int32Offsets(const std::vector<int64_t>& offsets) {
  arrow::Int32Builder b;
  for (int64_t o : offsets) {
    if (o > INT32_MAX) return arrow::Status::CapacityError("list offsets exceed int32");
    ARROW_RETURN_NOT_OK(b.Append(static_cast<int32_t>(o)));
  }
  return b.Finish();
}

// Wraps a flat value array into the column's list structure: inner dims first, rows last.
arrow::Result<std::shared_ptr<arrow::Array>> ColumnArray(const Column& c) {
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Array> arr, LeafArray(c));
  if (c.list == ListKind::kScalar) return arr;
  // inner dimensions (all but the outermost) are regular
  for (size_t d = c.shape.size(); d-- > 1;) {
    const int64_t n = c.shape[d];
    if (c.list == ListKind::kFixed) {
      ARROW_ASSIGN_OR_RAISE(arr, arrow::FixedSizeListArray::FromArrays(arr, static_cast<int32_t>(n)));
    } else {
      std::vector<int64_t> off;
      for (int64_t i = 0; i <= arr->length() / n; ++i) off.push_back(i * n);
      ARROW_ASSIGN_OR_RAISE(auto offs, Int32Offsets(off));
      ARROW_ASSIGN_OR_RAISE(arr, arrow::ListArray::FromArrays(*offs, *arr));
    }
  }
  int64_t inner = 1;
  for (size_t d = 1; d < c.shape.size(); ++d) inner *= c.shape[d];
  std::vector<int64_t> rows = c.offsets;
  for (int64_t& o : rows) o /= std::max<int64_t>(inner, 1);
  if (c.list == ListKind::kFixed) return arrow::FixedSizeListArray::FromArrays(arr, static_cast<int32_t>(c.shape[0]));
  ARROW_ASSIGN_OR_RAISE(auto offs, Int32Offsets(rows));
  ARROW_ASSIGN_OR_RAISE(auto list, arrow::ListArray::FromArrays(*offs, *arr));
  return std::static_pointer_cast<arrow::Array>(list);
}

arrow::Result<std::shared_ptr<arrow::Table>> ToArrow(const Table& t) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  for (const Column& c : t.columns) {
    ARROW_ASSIGN_OR_RAISE(auto arr, ColumnArray(c));
    fields.push_back(arrow::field(c.name, arr->type()));
    arrays.push_back(std::move(arr));
  }
  std::vector<std::string> keys, values;
  for (const auto& [k, v] : t.metadata) {
    keys.push_back(k);
    values.push_back(v);
  }
  auto schema = arrow::schema(fields, arrow::key_value_metadata(keys, values));
  return arrow::Table::Make(schema, arrays, t.num_rows());
}

arrow::Compression::type Codec(const std::string& name, bool* ok) {
  *ok = true;
  if (name == "snappy") return arrow::Compression::SNAPPY;
  if (name == "zstd") return arrow::Compression::ZSTD;
  if (name == "gzip") return arrow::Compression::GZIP;
  if (name == "none") return arrow::Compression::UNCOMPRESSED;
  *ok = false;
  return arrow::Compression::UNCOMPRESSED;
}

Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return IoError(path + ": cannot open to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError(path + ": fsync failed");
  return Status::Ok();
}

Status WriteArrowFile(const std::string& tmp, const arrow::Table& table, const ParquetWriteOptions& o) {
  bool codec_ok = false;
  const auto codec = Codec(o.compression, &codec_ok);
  if (!codec_ok) return InvalidArgument("parquet compression '" + o.compression + "' is not snappy, zstd, gzip or none");
  parquet::WriterProperties::Builder pb;
  pb.compression(codec);
  pb.max_row_group_length(INT64_MAX / 2);
  if (o.use_dictionary) pb.enable_dictionary(); else pb.disable_dictionary();
  auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  auto sink = arrow::io::FileOutputStream::Open(tmp);
  if (!sink.ok()) return IoError(tmp + ": " + sink.status().ToString());
  auto writer = parquet::arrow::FileWriter::Open(*table.schema(), arrow::default_memory_pool(), *sink, pb.build(),
                                                 arrow_props);
  if (!writer.ok()) return FromArrow(writer.status(), tmp, StatusCode::kIoError);
  std::vector<int64_t> groups = o.row_groups;
  if (groups.empty()) groups.push_back(table.num_rows());
  int64_t start = 0;
  for (int64_t n : groups) {
    if (n <= 0 && table.num_rows() > 0) continue;
    EMBODY_TRY(FromArrow((*writer)->WriteTable(*table.Slice(start, n), std::max<int64_t>(n, 1)), tmp,
                         StatusCode::kIoError));
    start += n;
  }
  EMBODY_TRY(FromArrow((*writer)->Close(), tmp, StatusCode::kIoError));
  EMBODY_TRY(FromArrow((*sink)->Close(), tmp, StatusCode::kIoError));
  return Status::Ok();
}

// ---- reading ----

// Appends leaf values [b, e) of `arr` (a primitive, string, binary or dictionary array).
Status AppendLeaf(const arrow::Array& arr, int64_t b, int64_t e, Column* c, const std::string& where);

// Appends elements [b, e) of `arr`, flattening lists; records dims into `shape` (first time).
Status Flatten(const arrow::Array& arr, int64_t b, int64_t e, Column* c, std::vector<int64_t>* shape, size_t depth,
               const std::string& where) {
  using T = arrow::Type;
  switch (arr.type_id()) {
    case T::LIST:
    case T::LARGE_LIST:
    case T::FIXED_SIZE_LIST: {
      std::shared_ptr<arrow::Array> values;
      for (int64_t i = b; i < e; ++i) {
        int64_t off = 0, len = 0;
        if (arr.type_id() == T::LIST) {
          const auto& l = static_cast<const arrow::ListArray&>(arr);
          off = l.value_offset(i);
          len = l.value_length(i);
          values = l.values();
        } else if (arr.type_id() == T::LARGE_LIST) {
          const auto& l = static_cast<const arrow::LargeListArray&>(arr);
          off = l.value_offset(i);
          len = l.value_length(i);
          values = l.values();
        } else {
          const auto& l = static_cast<const arrow::FixedSizeListArray&>(arr);
          off = l.value_offset(i);
          len = l.value_length(i);
          values = l.values();
        }
        if (arr.IsNull(i)) continue;
        if (off < 0 || len < 0 || off + len > values->length())
          return DataLoss(where + ": list offsets out of range");
        if (shape->size() <= depth) shape->push_back(len);
        EMBODY_TRY(Flatten(*values, off, off + len, c, shape, depth + 1, where));
      }
      return Status::Ok();
    }
    default: return AppendLeaf(arr, b, e, c, where);
  }
}

template <typename ArrowArray, typename V>
void AppendNumeric(const arrow::Array& arr, int64_t b, int64_t e, std::vector<V>* out) {
  const auto& a = static_cast<const ArrowArray&>(arr);
  for (int64_t i = b; i < e; ++i) out->push_back(a.IsNull(i) ? V{} : static_cast<V>(a.Value(i)));
}

Status AppendLeaf(const arrow::Array& arr, int64_t b, int64_t e, Column* c, const std::string& where) {
  using T = arrow::Type;
  switch (arr.type_id()) {
    case T::BOOL: AppendNumeric<arrow::BooleanArray>(arr, b, e, &c->u8); return Status::Ok();
    case T::INT8: AppendNumeric<arrow::Int8Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::INT16: AppendNumeric<arrow::Int16Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::INT32: AppendNumeric<arrow::Int32Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::INT64: AppendNumeric<arrow::Int64Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::UINT8: AppendNumeric<arrow::UInt8Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::UINT16: AppendNumeric<arrow::UInt16Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::UINT32: AppendNumeric<arrow::UInt32Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::UINT64: AppendNumeric<arrow::UInt64Array>(arr, b, e, &c->i64); return Status::Ok();
    case T::FLOAT: AppendNumeric<arrow::FloatArray>(arr, b, e, &c->f32); return Status::Ok();
    case T::DOUBLE: AppendNumeric<arrow::DoubleArray>(arr, b, e, &c->f64); return Status::Ok();
    case T::STRING:
    case T::BINARY: {
      const auto& a = static_cast<const arrow::BinaryArray&>(arr);
      for (int64_t i = b; i < e; ++i) c->str.push_back(a.IsNull(i) ? std::string() : std::string(a.GetView(i)));
      return Status::Ok();
    }
    case T::LARGE_STRING:
    case T::LARGE_BINARY: {
      const auto& a = static_cast<const arrow::LargeBinaryArray&>(arr);
      for (int64_t i = b; i < e; ++i) c->str.push_back(a.IsNull(i) ? std::string() : std::string(a.GetView(i)));
      return Status::Ok();
    }
    case T::STRING_VIEW:
    case T::BINARY_VIEW: {
      const auto& a = static_cast<const arrow::BinaryViewArray&>(arr);
      for (int64_t i = b; i < e; ++i) c->str.push_back(a.IsNull(i) ? std::string() : std::string(a.GetView(i)));
      return Status::Ok();
    }
    case T::DICTIONARY: {
      // Dictionary-encoded values (pyarrow's read_dictionary / pa.dictionary columns): decode.
      const auto& d = static_cast<const arrow::DictionaryArray&>(arr);
      const auto& dict = *d.dictionary();
      for (int64_t i = b; i < e; ++i) {
        if (d.IsNull(i)) {
          switch (c->type) {
            case ValueType::kString:
            case ValueType::kBinary: c->str.emplace_back(); break;
            case ValueType::kFloat32: c->f32.push_back(0); break;
            case ValueType::kFloat64: c->f64.push_back(0); break;
            case ValueType::kBool: c->u8.push_back(0); break;
            case ValueType::kInt64: c->i64.push_back(0); break;
          }
          continue;
        }
        const int64_t k = d.GetValueIndex(i);
        if (k < 0 || k >= dict.length()) return DataLoss(where + ": dictionary index out of range");
        EMBODY_TRY(AppendLeaf(dict, k, k + 1, c, where));
      }
      return Status::Ok();
    }
    case T::STRUCT: {
      // LeRobot image features: struct<bytes: binary, path: string>; keep the bytes.
      const auto& s = static_cast<const arrow::StructArray&>(arr);
      auto bytes = s.GetFieldByName("bytes");
      if (!bytes) return DataLoss(where + ": struct column without a 'bytes' field is not supported");
      return AppendLeaf(*bytes, b, e, c, where);
    }
    default: return DataLoss(where + ": unsupported Arrow type " + arr.type()->ToString());
  }
}

// The value type a leaf Arrow type maps to.
Result<ValueType> LeafValueType(const arrow::DataType& type, const std::string& where) {
  using T = arrow::Type;
  switch (type.id()) {
    case T::BOOL: return ValueType::kBool;
    case T::INT8: case T::INT16: case T::INT32: case T::INT64:
    case T::UINT8: case T::UINT16: case T::UINT32: case T::UINT64: return ValueType::kInt64;
    case T::FLOAT: return ValueType::kFloat32;
    case T::DOUBLE: return ValueType::kFloat64;
    case T::STRING: case T::LARGE_STRING: case T::STRING_VIEW: return ValueType::kString;
    case T::BINARY: case T::LARGE_BINARY: case T::BINARY_VIEW: return ValueType::kBinary;
    case T::DICTIONARY: return LeafValueType(*static_cast<const arrow::DictionaryType&>(type).value_type(), where);
    case T::STRUCT: return ValueType::kBinary;
    case T::LIST: case T::LARGE_LIST: case T::FIXED_SIZE_LIST:
      return LeafValueType(*static_cast<const arrow::BaseListType&>(type).value_type(), where);
    default: return DataLoss(where + ": unsupported Arrow type " + type.ToString());
  }
}

Result<Column> ToColumn(const std::string& name, const arrow::ChunkedArray& chunks, const std::string& path) {
  const std::string where = path + ": column '" + name + "'";
  Column c;
  c.name = name;
  EMBODY_ASSIGN_OR_RETURN(c.type, LeafValueType(*chunks.type(), where));
  const auto id = chunks.type()->id();
  const bool is_list = id == arrow::Type::LIST || id == arrow::Type::LARGE_LIST || id == arrow::Type::FIXED_SIZE_LIST;
  c.list = !is_list ? ListKind::kScalar : (id == arrow::Type::FIXED_SIZE_LIST ? ListKind::kFixed : ListKind::kVariable);
  if (is_list) c.offsets.push_back(0);
  bool any_null = chunks.null_count() > 0;
  for (const auto& chunk : chunks.chunks()) {
    for (int64_t r = 0; r < chunk->length(); ++r) {
      if (any_null) c.valid.push_back(chunk->IsNull(r) ? 0 : 1);
      if (!is_list) continue;
      std::vector<int64_t> shape;
      EMBODY_TRY(Flatten(*chunk, r, r + 1, &c, &shape, 0, where));
      if (c.shape.empty() && !shape.empty()) c.shape = shape;
      c.offsets.push_back(c.num_values());
    }
    if (!is_list) EMBODY_TRY(AppendLeaf(*chunk, 0, chunk->length(), &c, where));
  }
  // A fixed list whose rows are null has no values; keep the declared width as the shape.
  if (c.list == ListKind::kFixed && c.shape.empty())
    c.shape.push_back(static_cast<const arrow::FixedSizeListType&>(*chunks.type()).list_size());
  return c;
}

void CollectLeaves(const parquet::arrow::SchemaField& f, std::vector<int>* out) {
  if (f.is_leaf()) out->push_back(f.column_index);
  for (const auto& child : f.children) CollectLeaves(child, out);
}

}  // namespace

Status WriteParquet(const std::string& path, const Table& table, const ParquetWriteOptions& options) {
  EMBODY_TRY_CTX(table.Validate(), path);
  int64_t sum = 0;
  for (int64_t n : options.row_groups) sum += n;
  if (!options.row_groups.empty() && sum != table.num_rows())
    return InvalidArgument(path + ": row groups cover " + std::to_string(sum) + " rows, the table has " +
                           std::to_string(table.num_rows()));
  auto arrow_table = ToArrow(table);
  if (!arrow_table.ok()) return FromArrow(arrow_table.status(), path, StatusCode::kInvalidArgument);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  Status s;
  try {
    s = WriteArrowFile(tmp, **arrow_table, options);
  } catch (const std::exception& e) {
    s = IoError(tmp + ": " + e.what());
  }
  if (s.ok()) s = SyncFile(tmp);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) s = IoError(path + ": rename from .tmp failed");
  if (!s.ok()) std::filesystem::remove(tmp, ec);
  return s;
}

struct ParquetFile::Impl {
  std::unique_ptr<parquet::arrow::FileReader> reader;
  std::shared_ptr<arrow::Schema> schema;
};

ParquetFile::ParquetFile(std::string path) : path_(std::move(path)), impl_(std::make_unique<Impl>()) {}
ParquetFile::~ParquetFile() = default;

Result<std::unique_ptr<ParquetFile>> ParquetFile::Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return NotFound(path + ": no such file");
  std::unique_ptr<ParquetFile> f(new ParquetFile(path));
  try {
    auto in = arrow::io::ReadableFile::Open(path);
    if (!in.ok()) return IoError(path + ": " + in.status().ToString());
    auto reader = parquet::arrow::OpenFile(*in, arrow::default_memory_pool());
    if (!reader.ok()) return FromArrow(reader.status(), path);
    f->impl_->reader = std::move(*reader);
    EMBODY_TRY(FromArrow(f->impl_->reader->GetSchema(&f->impl_->schema), path));
  } catch (const std::exception& e) {
    return DataLoss(path + ": " + e.what());
  }
  return f;
}

int64_t ParquetFile::num_rows() const { return impl_->reader->parquet_reader()->metadata()->num_rows(); }
int ParquetFile::num_row_groups() const { return impl_->reader->num_row_groups(); }
int64_t ParquetFile::row_group_rows(int i) const {
  return impl_->reader->parquet_reader()->metadata()->RowGroup(i)->num_rows();
}
std::vector<std::string> ParquetFile::column_names() const { return impl_->schema->field_names(); }
std::map<std::string, std::string> ParquetFile::metadata() const {
  std::map<std::string, std::string> out;
  if (const auto& md = impl_->schema->metadata()) {
    for (int64_t i = 0; i < md->size(); ++i)
      if (md->key(i) != "ARROW:schema") out[md->key(i)] = md->value(i);
  }
  return out;
}

Result<Table> ParquetFile::Read(const std::vector<std::string>& columns, int first_group, int group_count) {
  const int groups = num_row_groups();
  if (group_count < 0) group_count = groups - first_group;
  if (first_group < 0 || first_group + group_count > groups)
    return OutOfRange(path_ + ": row groups [" + std::to_string(first_group) + ", " +
                      std::to_string(first_group + group_count) + ") past the file's " + std::to_string(groups));
  std::vector<std::string> names = columns.empty() ? column_names() : columns;
  std::vector<int> fields, leaves;
  const auto& manifest = impl_->reader->manifest();
  for (const std::string& n : names) {
    const int i = impl_->schema->GetFieldIndex(n);
    if (i < 0) return NotFound(path_ + ": no column '" + n + "'");
    fields.push_back(i);
    if (static_cast<size_t>(i) >= manifest.schema_fields.size()) return DataLoss(path_ + ": schema mismatch");
    CollectLeaves(manifest.schema_fields[static_cast<size_t>(i)], &leaves);
  }
  std::vector<int> row_groups;
  for (int g = first_group; g < first_group + group_count; ++g) row_groups.push_back(g);
  Table out;
  out.metadata = metadata();
  try {
    auto table = impl_->reader->ReadRowGroups(row_groups, leaves);
    if (!table.ok()) return FromArrow(table.status(), path_);
    for (const std::string& n : names) {
      auto chunks = (*table)->GetColumnByName(n);
      if (!chunks) return DataLoss(path_ + ": column '" + n + "' missing after read");
      EMBODY_ASSIGN_OR_RETURN(Column c, ToColumn(n, *chunks, path_));
      out.columns.push_back(std::move(c));
    }
  } catch (const std::exception& e) {
    return DataLoss(path_ + ": " + e.what());
  }
  EMBODY_TRY_CTX(out.Validate(), path_);
  return out;
}

Result<Table> ReadParquet(const std::string& path, const std::vector<std::string>& columns) {
  EMBODY_ASSIGN_OR_RETURN(auto f, ParquetFile::Open(path));
  return f->Read(columns);
}

}  // namespace embody::data
