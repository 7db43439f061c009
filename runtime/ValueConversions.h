//===- runtime/ValueConversions.h - A RuntimeValue read as what an op needs -----===//
//
// TorchScript passes numbers where ATen wants tensors and tensors where a
// number is wanted (`int(x)`, `bool(x)`): these conversions follow its rules.
// Each throws OpError on a value it cannot convert (an empty slot means a
// path TorchScript marked as never taken was taken).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

#include "ir/DType.h"
#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

/// `v` as a tensor operand: scalars become 0-d tensors with PyTorch's
/// wrapped-number dtypes. An int is i64, a bool i1, and a float f64 next to a
/// floating tensor `other` (which the 0-d tensor does not promote, so the math
/// happens in that tensor's dtype with the full double) or f32 otherwise (the
/// default dtype, as `int_tensor * 0.5` gives).
Tensor asTensor(const RuntimeValue& v, const RuntimeValue* other = nullptr);

double asDouble(const RuntimeValue& v);
int64_t asInt(const RuntimeValue& v);
bool asBool(const RuntimeValue& v);

/// An int or a bool (TorchScript's integer arithmetic applies).
inline bool isIntLike(const RuntimeValue& v) {
  return std::holds_alternative<int64_t>(v) || std::holds_alternative<bool>(v);
}

/// A scalar converted to the scalar type `t` (i64, i1; anything else f64).
RuntimeValue castScalar(const RuntimeValue& v, ir::DType t);

}  // namespace cocktail::runtime
