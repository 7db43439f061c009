//===- runtime/ScalarMath.cpp - TorchScript's int, float and bool arithmetic ----===//
#include "runtime/ScalarMath.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>

#include "ir/ElementwiseMath.h"
#include "runtime/OpError.h"
#include "runtime/ValueConversions.h"

namespace cocktail::runtime {

using ir::DType;
using ir::OpKind;

int64_t pyFloorDiv(int64_t a, int64_t b) {
  if (b == 0) throw InputError("integer division by zero");
  if (b == -1 && a == std::numeric_limits<int64_t>::min()) throw InputError("integer overflow in floor division");
  return math::floorDivideInt(a, b);
}

int64_t pyMod(int64_t a, int64_t b) {
  if (b == 0) throw InputError("integer modulo by zero");
  return math::remainderInt(a, b);
}

namespace {

/// What int and float scalars share: + - *, max, min and the comparisons;
/// nullopt for any other op. Ints wrap as TorchScript's int64 does, rather
/// than overflow (undefined in C++).
template <typename N>
std::optional<RuntimeValue> sharedBinary(OpKind k, N x, N y) {
  if constexpr (std::is_integral_v<N>) {
    switch (k) {
      case OpKind::Add: return static_cast<N>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
      case OpKind::Sub: return static_cast<N>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y));
      case OpKind::Mul: return math::wrappingMul(x, y);
      default: break;
    }
  } else {
    switch (k) {
      case OpKind::Add: return x + y;
      case OpKind::Sub: return x - y;
      case OpKind::Mul: return x * y;
      default: break;
    }
  }
  switch (k) {
    case OpKind::Maximum: return std::max(x, y);
    case OpKind::Minimum: return std::min(x, y);
    case OpKind::Eq: return x == y;
    case OpKind::Ne: return x != y;
    case OpKind::Lt: return x < y;
    case OpKind::Le: return x <= y;
    case OpKind::Gt: return x > y;
    case OpKind::Ge: return x >= y;
    default: return std::nullopt;
  }
}

}  // namespace

RuntimeValue scalarBinary(OpKind k, const RuntimeValue& a, const RuntimeValue& b, DType resultType) {
  const bool ints = isIntLike(a) && isIntLike(b);
  const bool bools = std::holds_alternative<bool>(a) && std::holds_alternative<bool>(b);
  RuntimeValue r;
  if (ints && k != OpKind::Div && k != OpKind::Pow) {
    const int64_t x = asInt(a), y = asInt(b);
    if (auto shared = sharedBinary(k, x, y)) return castScalar(*shared, resultType);
    switch (k) {
      case OpKind::FloorDiv: r = pyFloorDiv(x, y); break;
      case OpKind::Remainder: r = pyMod(x, y); break;
      case OpKind::And: r = bools ? RuntimeValue(bool(x && y)) : RuntimeValue(x & y); break;
      case OpKind::Or: r = bools ? RuntimeValue(bool(x || y)) : RuntimeValue(x | y); break;
      case OpKind::Xor: r = bools ? RuntimeValue(bool(x != y)) : RuntimeValue(x ^ y); break;
      default: throw OpError("unsupported scalar op");
    }
  } else {
    const double x = asDouble(a), y = asDouble(b);
    if (auto shared = sharedBinary(k, x, y)) return castScalar(*shared, resultType);
    switch (k) {
      case OpKind::Div:
        if (y == 0.0) throw InputError("float division by zero");
        r = x / y;
        break;
      case OpKind::Pow: r = std::pow(x, y); break;
      case OpKind::FloorDiv:
        if (y == 0.0) throw InputError("float floor division by zero");
        r = math::floorDivideFloat(x, y);
        break;
      case OpKind::Remainder:
        if (y == 0.0) throw InputError("float modulo by zero");
        r = math::remainderFloat(x, y);
        break;
      default: throw OpError("unsupported scalar op on floats");
    }
  }
  return castScalar(r, resultType);
}

RuntimeValue scalarUnary(OpKind k, const RuntimeValue& a, DType resultType) {
  if (k == OpKind::Not) return !asBool(a);
  if (k == OpKind::Neg && isIntLike(a)) return castScalar(math::wrappingNeg(asInt(a)), resultType);
  if (k == OpKind::Abs && isIntLike(a)) {
    const int64_t v = asInt(a);
    return castScalar(v < 0 ? math::wrappingNeg(v) : v, resultType);
  }
  double x = asDouble(a);
  double r;
  switch (k) {
    case OpKind::Neg: r = -x; break;
    case OpKind::Abs: r = std::fabs(x); break;
    case OpKind::Sqrt: r = std::sqrt(x); break;
    case OpKind::Exp: r = std::exp(x); break;
    case OpKind::Log: r = std::log(x); break;
    case OpKind::Sin: r = std::sin(x); break;
    case OpKind::Cos: r = std::cos(x); break;
    case OpKind::Tanh: r = std::tanh(x); break;
    case OpKind::Sigmoid: r = math::sigmoid(x); break;
    case OpKind::Floor: r = std::floor(x); break;
    case OpKind::Ceil: r = std::ceil(x); break;
    case OpKind::Round: r = math::roundHalfEven(x); break;
    case OpKind::Relu: r = math::relu(x); break;
    case OpKind::Reciprocal: r = math::reciprocal(x); break;
    default: throw OpError("unsupported scalar op");
  }
  return castScalar(r, resultType);
}

}  // namespace cocktail::runtime
