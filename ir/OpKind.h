//===- ir/OpKind.h - The op enumeration and its static traits -------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cocktail::ir {

enum class OpKind : uint16_t {
#define OP(E, M, MIN, MAX, RES, REG, CLS) E,
#include "ir/OpDefs.def"
};

/// How many ops OpDefs.def declares.
inline constexpr size_t kNumOpKinds = 0
#define OP(E, M, MIN, MAX, RES, REG, CLS) +1
#include "ir/OpDefs.def"
    ;

/// What kind of semantics an op has; passes and executors dispatch on it.
enum class OpClass : uint8_t {
  Structure, Terminator, Island, Binary, Unary, Elementwise, Scalar, Reduction,
  Contraction, Layout, Write, Creation, NN
};

struct OpInfo {
  std::string_view mnemonic;
  int minOperands;
  int maxOperands;  // -1: variadic
  int numResults;   // -1: variadic
  int numRegions;
  OpClass opClass;
};

const OpInfo& opInfo(OpKind kind);
inline std::string_view mnemonic(OpKind kind) { return opInfo(kind).mnemonic; }
std::optional<OpKind> opKindFromMnemonic(std::string_view mnemonic);

/// What an op is beside its class, declared in ir/OpTraits.def (see there for
/// each trait's meaning). A bit set: traits combine.
enum OpTrait : uint32_t {
  kView = 1u << 0,
  kRegroups = 1u << 1,
  kStrides = 1u << 2,
  kPartAlongDim = 1u << 3,
  kFusible = 1u << 4,
  kElementwise = 1u << 5,  // implied by class Binary, Unary or Elementwise
};

/// Whether `kind` has every trait in `traits`.
bool hasTrait(OpKind kind, uint32_t traits);

/// A view: an offset, sizes and strides over operand 0's buffer, no kernel.
inline bool isView(OpKind kind) { return hasTrait(kind, kView); }
/// An elementwise op: element e of the result reads element e of each
/// operand (after broadcasting), nothing else.
inline bool isElementwise(OpKind kind) { return hasTrait(kind, kElementwise); }

}  // namespace cocktail::ir
