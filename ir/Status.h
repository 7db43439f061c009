//===- ir/Status.h - User errors as values -------------------------------------===//
//
// User errors (bad IR text, a model the compiler cannot take, a wrong input
// spec) travel as `Status` / `Expected<T>` and are printed at the edge; bugs
// are asserts. A diagnostic names where the problem is: the source location
// and, when there is one, the op.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ir/Location.h"

namespace cocktail::ir {

/// What kind of failure a Status is: how each edge reports it (the server's
/// gRPC codes in server/Status.cpp, the tools' exit codes).
enum class ErrorKind : uint8_t {
  User,         // bad input, or the model's own `raise`: the caller can fix it
  Unsupported,  // a construct the compiler or a backend does not handle (yet)
  Internal,     // anything else while running: a bug or an environment failure
};

struct Diagnostic {
  Location loc;
  std::string message;            // "'loop' op expects 3 yielded values, got 2"
  std::vector<std::string> notes;  // extra lines: "note: ..."
  /// "model.py:12: error: message\n  note: ..."
  std::string str() const;
};

class [[nodiscard]] Status {
 public:
  static Status success() { return Status(); }
  static Status error(std::string message, Location loc = {}, ErrorKind kind = ErrorKind::User) {
    Status s;
    s.diags_.push_back(Diagnostic{std::move(loc), std::move(message), {}});
    s.kind_ = kind;
    return s;
  }
  bool ok() const { return diags_.empty(); }
  explicit operator bool() const { return ok(); }

  /// The kind of the failure (User for a success or a plain error()).
  ErrorKind kind() const { return kind_; }

  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  void add(Diagnostic d) { diags_.push_back(std::move(d)); }
  /// Appends other's diagnostics; a success takes other's kind too.
  void append(const Status& other) {
    if (diags_.empty()) kind_ = other.kind_;
    diags_.insert(diags_.end(), other.diags_.begin(), other.diags_.end());
  }
  /// All diagnostics, one per line.
  std::string str() const;

 private:
  std::vector<Diagnostic> diags_;
  ErrorKind kind_ = ErrorKind::User;
};

/// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Status error) : v_(std::move(error)) { assert(!std::get<Status>(v_).ok() && "Expected from a success"); }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Status& status() const { return std::get<Status>(v_); }
  T take() { return std::move(std::get<0>(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cocktail::ir

/// Returns early from a function returning Status or Expected<T>.
#define COCKTAIL_RETURN_IF_ERROR(expr)        \
  do {                                        \
    ::cocktail::ir::Status _st = (expr);      \
    if (!_st.ok()) return _st;                \
  } while (0)
