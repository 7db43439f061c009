//===- codegen/CudaExpr.h - Integer expressions of generated code ---------------===//
//
// Offsets, dims and strides in generated CUDA are C++ expressions over the
// kernel's scalars (`v12`), the symbols (`sym_T`) and literals. An Expr keeps
// the literal value when there is one, so that `4 * 256` is emitted as
// `1024` and a dim of 1 is recognised as one (a broadcast, a skipped term).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cocktail::codegen {

class Expr {
 public:
  Expr() : Expr(int64_t{0}) {}
  Expr(int64_t value) : text_(std::to_string(value)), value_(value) {}  // NOLINT: literals read naturally
  /// A C++ expression of type i64 (parenthesised where it is not atomic).
  static Expr code(std::string text) { return Expr(std::move(text)); }

  bool isConstant() const { return value_.has_value(); }
  bool is(int64_t v) const { return value_ == v; }
  std::optional<int64_t> constant() const { return value_; }
  const std::string& str() const { return text_; }

  friend Expr operator+(const Expr& a, const Expr& b) {
    if (a.isConstant() && b.isConstant()) return *a.value_ + *b.value_;
    if (a.is(0)) return b;
    if (b.is(0)) return a;
    return code("(" + a.text_ + " + " + b.text_ + ")");
  }
  friend Expr operator-(const Expr& a, const Expr& b) {
    if (a.isConstant() && b.isConstant()) return *a.value_ - *b.value_;
    if (b.is(0)) return a;
    return code("(" + a.text_ + " - " + b.text_ + ")");
  }
  friend Expr operator*(const Expr& a, const Expr& b) {
    if (a.isConstant() && b.isConstant()) return *a.value_ * *b.value_;
    if (a.is(0) || b.is(0)) return 0;
    if (a.is(1)) return b;
    if (b.is(1)) return a;
    return code(a.text_ + " * " + b.text_);
  }
  bool operator==(const Expr& o) const { return text_ == o.text_; }

 private:
  explicit Expr(std::string text) : text_(std::move(text)) {}
  std::string text_;
  std::optional<int64_t> value_;
};

}  // namespace cocktail::codegen
