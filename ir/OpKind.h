//===- ir/OpKind.h - The op enumeration and its static traits -------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cocktail::ir {

enum class OpKind : uint16_t {
#define OP(E, M, MIN, MAX, RES, REG, CLS) E,
#include "ir/OpDefs.def"
};

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

}  // namespace cocktail::ir
