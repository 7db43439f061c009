//===- runtime/RuntimeValue.h - What flows between ops at run time -------------===//
//
// A tensor, or one of TorchScript's scalars (int, float, bool). The executor
// holds one per SSA value of the program; inputs and outputs of a model are
// lists of them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "runtime/Tensor.h"

namespace cocktail::runtime {

using RuntimeValue = std::variant<std::monostate, Tensor, int64_t, double, bool>;

inline bool isTensor(const RuntimeValue& v) { return std::holds_alternative<Tensor>(v); }
inline bool isScalar(const RuntimeValue& v) { return v.index() >= 2; }

/// "f32[2, 3]", "i64 = 5", ...: for error messages and `cocktail-run` output.
std::string describe(const RuntimeValue& v);

}  // namespace cocktail::runtime
