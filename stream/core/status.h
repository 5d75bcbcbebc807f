// Status and Result<T>: how every component reports failure without exceptions.
// Result<T> follows std::expected's member names (has_value, value, error) so it can be
// swapped for std::expected once C++23 is available. Retryable errors (kUnavailable) are
// the ones a caller may try again; everything else is final for that call.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace pinstream::core {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input or config: not retryable
  kNotFound,
  kAlreadyExists,
  kIoError,
  kCorruption,
  kUnavailable,  // transient (network, throttling): retryable
  kAborted,      // conflict (e.g. a Delta version taken): retry after re-reading
  kInternal,
  kNotImplemented,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status io(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status not_implemented(std::string m) {
    return {StatusCode::kNotImplemented, std::move(m)};
  }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  bool retryable() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kAborted;
  }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IoError: message" (or "OK").
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit like std::expected
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).is_ok()) v_ = Status::internal("Result built from an OK status");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const Status& error() const { return std::get<Status>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return has_value() ? Status::ok() : error(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void check_failed(const char* file, int line, const char* cond,
                               const std::string& msg);

}  // namespace pinstream::core

#define PS_CONCAT_INNER(a, b) a##b
#define PS_CONCAT(a, b) PS_CONCAT_INNER(a, b)

#define PS_RETURN_IF_ERROR(expr)                   \
  do {                                             \
    ::pinstream::core::Status ps_status_ = (expr); \
    if (!ps_status_.is_ok()) return ps_status_;    \
  } while (0)

#define PS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.has_value()) return tmp.error();      \
  lhs = std::move(tmp).value()

#define PS_ASSIGN_OR_RETURN(lhs, expr) \
  PS_ASSIGN_OR_RETURN_IMPL(PS_CONCAT(ps_result_, __LINE__), lhs, expr)

// A broken invariant is a bug: log and abort in every build type.
#define PS_CHECK(cond, msg)                                                         \
  do {                                                                              \
    if (!(cond)) ::pinstream::core::check_failed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
