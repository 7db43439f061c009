//===- runtime/ScalarMath.h - TorchScript's int, float and bool arithmetic ------===//
//
// Binary and unary ops whose operands are all scalars run here rather than
// as 0-d tensor kernels: Python's semantics (floor division and modulo round
// toward negative infinity, int op int stays int except `/` and `**`, and
// a division by zero raises), with the result cast to the op's result type.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

#include "ir/DType.h"
#include "ir/Op.h"
#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

/// Python's `a // b` and `a % b` on ints; throw InputError (as Python raises) on a zero divisor
/// or on INT64_MIN // -1, which overflows.
int64_t pyFloorDiv(int64_t a, int64_t b);
int64_t pyMod(int64_t a, int64_t b);

/// `k` (an ir::OpClass::Binary op) on two scalars.
RuntimeValue scalarBinary(ir::OpKind k, const RuntimeValue& a, const RuntimeValue& b, ir::DType resultType);
/// `k` (an ir::OpClass::Unary op) on a scalar.
RuntimeValue scalarUnary(ir::OpKind k, const RuntimeValue& a, ir::DType resultType);

}  // namespace cocktail::runtime
