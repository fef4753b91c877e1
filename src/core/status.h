// Status and Result<T>: how every fallible embody function reports failure.
//
// Success is free: an OK Status holds a null pointer and allocates nothing, so the control loop
// can check one every tick. Only failures allocate (code + message). Codes have stable numbers
// because they cross process boundaries (CLI exit codes, logs, a future gRPC service).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace embody {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 3,     // the caller passed something wrong: shape, value, option
  kNotFound = 5,            // a file, tensor or key that must exist does not
  kFailedPrecondition = 9,  // the object is not in a state that allows the call
  kOutOfRange = 11,         // an index or size past a limit
  kUnimplemented = 12,      // valid input that embody does not support (yet)
  kInternal = 13,           // a bug in embody
  kDataLoss = 15,           // corrupt or truncated file
  kIoError = 100,           // the OS refused: open, read, write, mmap
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  const std::string& message() const;
  // "InvalidArgument: <message>" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <old message>". OK stays OK.
  Status WithContext(std::string_view context) const;

  // Drop an error on purpose.
  void IgnoreError() const {}

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status FailedPrecondition(std::string message);
Status OutOfRange(std::string message);
Status Unimplemented(std::string message);
Status Internal(std::string message);
Status DataLoss(std::string message);
Status IoError(std::string message);

// A value or an error. Building a Result from an OK Status is a bug and becomes kInternal,
// so ok() never lies.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Internal("Result built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) { return r.ok() ? Status() : r.status(); }
}  // namespace internal

}  // namespace embody

#define EMBODY_CONCAT_INNER(a, b) a##b
#define EMBODY_CONCAT(a, b) EMBODY_CONCAT_INNER(a, b)

// Returns the error of a Status- or Result-returning expression.
#define EMBODY_TRY(expr)                                                       \
  do {                                                                         \
    ::embody::Status _embody_st = ::embody::internal::AsStatus((expr));       \
    if (!_embody_st.ok()) return _embody_st;                                   \
  } while (0)

// Like EMBODY_TRY, with context prepended on the error path only.
#define EMBODY_TRY_CTX(expr, context)                                          \
  do {                                                                         \
    ::embody::Status _embody_st = ::embody::internal::AsStatus((expr));       \
    if (!_embody_st.ok()) return _embody_st.WithContext(context);              \
  } while (0)

#define EMBODY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

// lhs = value of a Result-returning expr, or return its error. Expands to several statements:
// inside an if/else, use braces.
#define EMBODY_ASSIGN_OR_RETURN(lhs, expr) \
  EMBODY_ASSIGN_OR_RETURN_IMPL(EMBODY_CONCAT(_embody_r, __LINE__), lhs, expr)
