//===- ir/Type.h - Types of IR values --------------------------------------===//
//
// A value is either a scalar (i64, f64, i1) or a tensor. A tensor type has a
// dtype and, when known, a rank and dims; each dim is a constant, a symbol
// with an upper bound declared on the program (`T` with `symbol T <= 512`),
// or unknown (`?`) until shape inference fills it in. The frontend produces
// tensors of unknown shape inside the body; the signature is always exact.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/DType.h"

namespace cocktail::ir {

/// One dimension of a tensor type.
class Dim {
 public:
  static Dim constant(int64_t n) { return Dim(Kind::Constant, n, {}); }
  static Dim symbol(std::string name) { return Dim(Kind::Symbol, 0, std::move(name)); }
  static Dim unknown() { return Dim(Kind::Unknown, 0, {}); }

  bool isConstant() const { return kind_ == Kind::Constant; }
  bool isSymbol() const { return kind_ == Kind::Symbol; }
  bool isUnknown() const { return kind_ == Kind::Unknown; }
  int64_t value() const { return value_; }
  const std::string& symbolName() const { return symbol_; }

  bool operator==(const Dim&) const = default;

 private:
  enum class Kind : uint8_t { Constant, Symbol, Unknown };
  Dim(Kind k, int64_t v, std::string s) : kind_(k), value_(v), symbol_(std::move(s)) {}
  Kind kind_;
  int64_t value_;
  std::string symbol_;
};

/// The type of an SSA value. Small and copied by value.
class Type {
 public:
  enum class Kind : uint8_t { Scalar, Tensor };

  /// A scalar: i64, f64 or i1 (TorchScript's int, float, bool).
  static Type scalar(DType dtype) { return Type(Kind::Scalar, dtype, std::nullopt); }
  /// A tensor of known rank.
  static Type tensor(DType dtype, std::vector<Dim> dims) { return Type(Kind::Tensor, dtype, std::move(dims)); }
  /// A tensor whose rank is not known yet.
  static Type unrankedTensor(DType dtype) { return Type(Kind::Tensor, dtype, std::nullopt); }
  /// A tensor of which nothing is known yet (printed `tensor`): what the
  /// frontend gives intermediate TorchScript tensors before shape inference.
  static Type unknownTensor() {
    Type t(Kind::Tensor, DType::F32, std::nullopt);
    t.dtypeKnown_ = false;
    return t;
  }

  bool isScalar() const { return kind_ == Kind::Scalar; }
  bool isTensor() const { return kind_ == Kind::Tensor; }
  bool hasRank() const { return dims_.has_value(); }
  bool hasDType() const { return dtypeKnown_; }
  /// The element type; only meaningful when hasDType().
  DType dtype() const { return dtype_; }
  /// Dims of a ranked tensor; empty for scalars and unranked tensors.
  const std::vector<Dim>& dims() const;
  int64_t rank() const { return hasRank() ? static_cast<int64_t>(dims_->size()) : -1; }

  bool operator==(const Type&) const = default;

  /// The textual form: `i64`, `f32[T,4,?]`, `f32[*]`, `f32[]` (a 0-d
  /// tensor), `tensor` (nothing known).
  std::string str() const;

 private:
  Type(Kind k, DType d, std::optional<std::vector<Dim>> dims) : kind_(k), dtype_(d), dims_(std::move(dims)) {}
  Kind kind_;
  DType dtype_;
  bool dtypeKnown_ = true;
  std::optional<std::vector<Dim>> dims_;
};

}  // namespace cocktail::ir
