//===- server/Status.h - Errors of the serving layer ----------------------------------===//
//
// Like ir::Status, but with a kind that says how a client should read the
// failure (a bad request, an unknown model, a full queue, ...). Errors travel
// as values through the server with COCKTAIL_SERVE_RETURN_IF_ERROR and become
// gRPC status codes in exactly one place (toGrpcStatus in GrpcServer.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "ir/Status.h"

namespace cocktail::server {

class [[nodiscard]] Status {
 public:
  enum class Code {
    Ok,
    InvalidArgument,     // the request is malformed or does not fit the model
    NotFound,            // no such model or version
    Unavailable,         // the model exists but is not ready, or the server is draining
    ResourceExhausted,   // the model's queue is full
    DeadlineExceeded,    // the request waited past its timeout
    Cancelled,           // the client gave up on the request (a cancelled call)
    FailedPrecondition,  // the operation is not allowed in this mode
    Unimplemented,       // a protocol extension cocktail-serve does not implement
    Internal,            // the model failed while running
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status success() { return {}; }

  bool ok() const { return code_ == Code::Ok; }
  explicit operator bool() const { return ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  /// An ir::Status (compiler, runtime) as a server error of the given kind.
  static Status fromIr(const ir::Status& s, Code code);
  /// A failed run as a server error, its code from the status's kind:
  /// User -> InvalidArgument (a bad input, the model's own `raise`),
  /// Unsupported -> FailedPrecondition, Internal -> Internal.
  static Status fromRun(const ir::Status& s);

 private:
  Code code_ = Code::Ok;
  std::string message_;
};

inline Status invalidArgument(std::string m) { return {Status::Code::InvalidArgument, std::move(m)}; }
inline Status notFound(std::string m) { return {Status::Code::NotFound, std::move(m)}; }
inline Status unavailable(std::string m) { return {Status::Code::Unavailable, std::move(m)}; }
inline Status internalError(std::string m) { return {Status::Code::Internal, std::move(m)}; }

/// "INVALID_ARGUMENT", ...: for logs.
const char* codeName(Status::Code code);

/// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}
  StatusOr(Status error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const { return std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cocktail::server

/// Returns early from a function returning server::Status or StatusOr<T>.
#define COCKTAIL_SERVE_RETURN_IF_ERROR(expr)        \
  do {                                              \
    ::cocktail::server::Status _st = (expr);        \
    if (!_st.ok()) return _st;                      \
  } while (0)
