//===- ir/Program.h - A whole model as a uProgram ---------------------------===//
//
// The unit the compiler works on: the symbols that bound dynamic dims, the
// weights (named tensors whose bytes live beside the IR, not in its text),
// and one function body whose arguments are the model's inputs and whose
// `return` gives its outputs.
//
//   symbol T <= 128
//   weight @w0 : f32[256,256]
//   func @forward(%xs: f32[T,4,64], %steps: i64) -> (f32[4,64]) {
//     ...
//     return %out
//   }
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/CacheAligned.h"
#include "ir/Op.h"

namespace cocktail::ir {

/// A dynamic dimension with its upper bound.
struct Symbol {
  std::string name;
  int64_t bound = 0;
  bool operator==(const Symbol&) const = default;
};

/// A named constant tensor. The IR carries its type; the bytes, when
/// present, travel in the artifact.
struct WeightDecl {
  std::string name;
  Type type;
  CacheAlignedBytes data;  // empty when only the declaration is known
};

class Program {
 public:
  Program() : body_(std::make_unique<Region>()) {}

  std::string& funcName() { return funcName_; }
  const std::string& funcName() const { return funcName_; }

  std::vector<Symbol>& symbols() { return symbols_; }
  const std::vector<Symbol>& symbols() const { return symbols_; }
  const Symbol* findSymbol(const std::string& name) const;

  std::vector<WeightDecl>& weights() { return weights_; }
  const std::vector<WeightDecl>& weights() const { return weights_; }
  const WeightDecl* findWeight(const std::string& name) const;

  /// Declared result types of the function (the `-> (...)` part).
  std::vector<Type>& resultTypes() { return resultTypes_; }
  const std::vector<Type>& resultTypes() const { return resultTypes_; }

  /// Facts about the whole function that passes attach (e.g. the memory
  /// plan's arena size), printed as `func @f(...) -> (...) attributes {...}`.
  Attributes& attrs() { return attrs_; }
  const Attributes& attrs() const { return attrs_; }

  Region& body() { return *body_; }
  const Region& body() const { return *body_; }

 private:
  std::string funcName_ = "forward";
  std::vector<Symbol> symbols_;
  std::vector<WeightDecl> weights_;
  std::vector<Type> resultTypes_;
  Attributes attrs_;
  std::unique_ptr<Region> body_;
};

/// Bytes of a tensor of type `t` with every dim at its bound in `program`;
/// nullopt for a scalar, a missing rank or dtype, a dim with no bound, or a
/// size past int64.
std::optional<int64_t> boundBytes(const Type& t, const Program& program);

}  // namespace cocktail::ir
