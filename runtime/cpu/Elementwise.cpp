//===- runtime/cpu/Elementwise.cpp - Type promotion and elementwise ops ---===//
//
// Binary and unary maps, where / masked_fill / clamp, casts and creation
// ops. Binary ops cast both operands to the compute type first, then run a
// broadcast loop whose inner runs are specialised for the common
// "both contiguous" and "one side broadcast" cases so they vectorise.
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <cstring>

#include "ir/ElementwiseMath.h"
#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/VecMath.h"

namespace cocktail::runtime::cpu {

using namespace detail;

// ---- type promotion ------------------------------------------------------------------

namespace {
enum class Category { Bool = 0, Integer = 1, Floating = 2 };

Category categoryOf(DType t) {
  if (t == DType::I1) return Category::Bool;
  if (ir::isFloating(t)) return Category::Floating;
  return Category::Integer;
}
}  // namespace

DType promoteTypes(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::I1) return b;
  if (b == DType::I1) return a;
  const bool fa = ir::isFloating(a), fb = ir::isFloating(b);
  if (fa != fb) return fa ? a : b;
  if (!fa) return ir::promoteIntegers(a, b);
  // Two different floating types.
  if (a == DType::F64 || b == DType::F64) return DType::F64;
  if (a == DType::F32 || b == DType::F32) return DType::F32;
  return DType::F32;  // f16 with bf16
}

DType resultType(const Tensor& a, const Tensor& b) {
  const bool za = a.dim() == 0, zb = b.dim() == 0;
  if (za == zb) return promoteTypes(a.dtype(), b.dtype());
  // One dimensioned and one 0-d operand: the 0-d one only matters when its
  // category is higher than the dimensioned one's.
  const DType dimType = za ? b.dtype() : a.dtype();
  const DType zeroType = za ? a.dtype() : b.dtype();
  if (categoryOf(zeroType) > categoryOf(dimType)) return promoteTypes(dimType, zeroType);
  return dimType;
}

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) {
    dispatch("cast", dtype, [](auto) {});  // reject half types consistently
    return x.clone();
  }
  return toDType(x, dtype);
}

// ---- creation ----------------------------------------------------------------------

Tensor full(const Shape& shape, const Tensor& value, DType dtype) {
  if (value.numel() != 1)
    throw std::invalid_argument(
        fmt::format("full: the fill value must have one element, got {}", value.typeString()));
  Tensor v = toDType(value, dtype);
  Tensor out = Tensor::empty(dtype, shape);
  dispatch("full", dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::fill_n(out.data<T>(), out.numel(), *v.data<T>());
  });
  return out;
}

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0) throw std::invalid_argument("arange: step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end))
    throw std::invalid_argument(fmt::format("arange: unsupported range: {} -> {}", start, end));
  if ((step > 0 && end < start) || (step < 0 && end > start))
    throw std::invalid_argument(fmt::format(
        "arange: upper bound and larger bound inconsistent with step sign (start {}, end {}, "
        "step {})",
        start, end, step));
  const auto n = static_cast<int64_t>(std::ceil((end - start) / step));
  Tensor out = Tensor::empty(dtype, {n});
  dispatch("arange", dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = out.data<T>();
    if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument("arange: not implemented for i1");
    } else if constexpr (std::is_integral_v<T>) {
      const auto s = static_cast<int64_t>(start), st = static_cast<int64_t>(step);
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<T>(s + i * st);
    } else {
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<T>(start + static_cast<double>(i) * step);
    }
  });
  return out;
}

Tensor eye(int64_t n, std::optional<int64_t> m, DType dtype) {
  const int64_t cols = m.value_or(n);
  if (n < 0 || cols < 0)
    throw std::invalid_argument(fmt::format("eye: n and m must be non-negative, got {} and {}", n, cols));
  Tensor out = Tensor::zeros(dtype, {n, cols});
  dispatch("eye", dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = out.data<T>();
    for (int64_t i = 0; i < std::min(n, cols); ++i) d[i * cols + i] = T(1);
  });
  return out;
}

// ---- binary ----------------------------------------------------------------------

namespace {

const char* binaryName(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Pow: return "pow";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
    case BinaryOp::Remainder: return "remainder";
    case BinaryOp::FloorDivide: return "floor_divide";
    case BinaryOp::Eq: return "eq";
    case BinaryOp::Ne: return "ne";
    case BinaryOp::Lt: return "lt";
    case BinaryOp::Le: return "le";
    case BinaryOp::Gt: return "gt";
    case BinaryOp::Ge: return "ge";
    case BinaryOp::LogicalAnd: return "logical_and";
    case BinaryOp::LogicalOr: return "logical_or";
    case BinaryOp::LogicalXor: return "logical_xor";
    case BinaryOp::BitwiseAnd: return "bitwise_and";
    case BinaryOp::BitwiseOr: return "bitwise_or";
    case BinaryOp::BitwiseXor: return "bitwise_xor";
  }
  return "binary";
}

/// Runs out[i] = f(a[i], b[i]) over the broadcast of a and b (already of type I).
template <typename O, typename I, typename F>
Tensor binaryMap(const Tensor& a, const Tensor& b, const Shape& shape, F f) {
  Tensor out = Tensor::empty(dtypeOf<O>(), shape);
  const Strides sa = broadcastStrides(a.shape(), shape);
  const Strides sb = broadcastStrides(b.shape(), shape);
  const Strides so = contiguousStrides(shape);
  const I* pa = a.data<I>();
  const I* pb = b.data<I>();
  O* po = out.data<O>();
  forEachRun<3>(shape, {&sa, &sb, &so},
                [&](std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
                  const I* x = pa + off[0];
                  const I* y = pb + off[1];
                  O* z = po + off[2];  // the output's innermost run is always unit-stride
                  if (st[0] == 1 && st[1] == 1) {
                    for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
                  } else if (st[0] == 0 && st[1] == 1) {
                    const I xv = *x;
                    for (int64_t i = 0; i < n; ++i) z[i] = f(xv, y[i]);
                  } else if (st[0] == 1 && st[1] == 0) {
                    const I yv = *y;
                    for (int64_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
                  } else {
                    for (int64_t i = 0; i < n; ++i) z[i] = f(x[i * st[0]], y[i * st[1]]);
                  }
                });
  return out;
}

[[noreturn]] void throwZeroDivision(const char* op) {
  throw std::invalid_argument(fmt::format("{}: ZeroDivisionError (integer division by zero)", op));
}

/// Arithmetic ops whose output type is the compute type T.
template <typename T>
Tensor arithmetic(BinaryOp op, const Tensor& a, const Tensor& b, const Shape& shape) {
  const char* name = binaryName(op);
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case BinaryOp::Add:
      case BinaryOp::Maximum:
      case BinaryOp::BitwiseOr:
        return binaryMap<bool, bool>(a, b, shape, [](bool x, bool y) { return x || y; });
      case BinaryOp::Mul:
      case BinaryOp::Minimum:
      case BinaryOp::BitwiseAnd:
        return binaryMap<bool, bool>(a, b, shape, [](bool x, bool y) { return x && y; });
      case BinaryOp::BitwiseXor:
        return binaryMap<bool, bool>(a, b, shape, [](bool x, bool y) { return x != y; });
      default: throwUnsupported(name, DType::I1);
    }
  } else {
    switch (op) {
      case BinaryOp::Add: return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x + y); });
      case BinaryOp::Sub: return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x - y); });
      case BinaryOp::Mul: return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x * y); });
      case BinaryOp::Div: return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x / y); });
      case BinaryOp::Pow:
        if constexpr (std::is_floating_point_v<T>)
          return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(std::pow(x, y)); });
        else
          return binaryMap<T, T>(a, b, shape, [](T x, T y) { return math::intPow(x, y); });
      case BinaryOp::Maximum: return binaryMap<T, T>(a, b, shape, [](T x, T y) { return math::maximum(x, y); });
      case BinaryOp::Minimum: return binaryMap<T, T>(a, b, shape, [](T x, T y) { return math::minimum(x, y); });
      case BinaryOp::Remainder:
        if constexpr (std::is_floating_point_v<T>) {
          return binaryMap<T, T>(a, b, shape, [](T x, T y) { return math::remainderFloat(x, y); });
        } else {
          return binaryMap<T, T>(a, b, shape, [name](T x, T y) {
            if (y == 0) throwZeroDivision(name);
            return math::remainderInt(x, y);
          });
        }
      case BinaryOp::FloorDivide:
        if constexpr (std::is_floating_point_v<T>) {
          return binaryMap<T, T>(a, b, shape, [](T x, T y) { return math::floorDivideFloat(x, y); });
        } else {
          return binaryMap<T, T>(a, b, shape, [name](T x, T y) {
            if (y == 0) throwZeroDivision(name);
            return math::floorDivideInt(x, y);
          });
        }
      case BinaryOp::BitwiseAnd:
      case BinaryOp::BitwiseOr:
      case BinaryOp::BitwiseXor:
        if constexpr (std::is_integral_v<T>) {
          if (op == BinaryOp::BitwiseAnd)
            return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x & y); });
          if (op == BinaryOp::BitwiseXor)
            return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x ^ y); });
          return binaryMap<T, T>(a, b, shape, [](T x, T y) { return T(x | y); });
        } else {
          throwUnsupported(name, dtypeOf<T>());
        }
      default: break;
    }
  }
  throw std::logic_error(fmt::format("{}: not an arithmetic op", name));
}

template <typename T>
Tensor comparison(BinaryOp op, const Tensor& a, const Tensor& b, const Shape& shape) {
  switch (op) {
    case BinaryOp::Eq: return binaryMap<bool, T>(a, b, shape, [](T x, T y) { return x == y; });
    case BinaryOp::Ne: return binaryMap<bool, T>(a, b, shape, [](T x, T y) { return x != y; });
    case BinaryOp::Lt: return binaryMap<bool, T>(a, b, shape, [](T x, T y) { return x < y; });
    case BinaryOp::Le: return binaryMap<bool, T>(a, b, shape, [](T x, T y) { return x <= y; });
    case BinaryOp::Gt: return binaryMap<bool, T>(a, b, shape, [](T x, T y) { return x > y; });
    case BinaryOp::Ge: return binaryMap<bool, T>(a, b, shape, [](T x, T y) { return x >= y; });
    default: throw std::logic_error("comparison: not a comparison op");
  }
}

bool isComparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt || op == BinaryOp::Le ||
         op == BinaryOp::Gt || op == BinaryOp::Ge;
}

bool isLogical(BinaryOp op) {
  return op == BinaryOp::LogicalAnd || op == BinaryOp::LogicalOr || op == BinaryOp::LogicalXor;
}

}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binaryName(op);
  const Shape shape = broadcastShapes(name, a.shape(), b.shape());
  if (isLogical(op)) {
    dispatch(name, a.dtype(), [](auto) {});
    dispatch(name, b.dtype(), [](auto) {});
    const Tensor x = toDType(a, DType::I1), y = toDType(b, DType::I1);
    switch (op) {
      case BinaryOp::LogicalAnd:
        return binaryMap<bool, bool>(x, y, shape, [](bool p, bool q) { return p && q; });
      case BinaryOp::LogicalOr:
        return binaryMap<bool, bool>(x, y, shape, [](bool p, bool q) { return p || q; });
      default: return binaryMap<bool, bool>(x, y, shape, [](bool p, bool q) { return p != q; });
    }
  }
  if (op == BinaryOp::Sub && (a.dtype() == DType::I1 || b.dtype() == DType::I1))
    throw std::invalid_argument(fmt::format(
        "sub: subtraction, the `-` operator, with a bool tensor is not supported (got {} and {}); "
        "use the `~` or `logical_not()` operator to invert a mask",
        a.typeString(), b.typeString()));
  DType compute = resultType(a, b);
  // True division of integers happens in the default float type.
  if (op == BinaryOp::Div && !ir::isFloating(compute)) compute = DType::F32;
  const Tensor x = toDType(a, compute), y = toDType(b, compute);
  return dispatch(name, compute, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (isComparison(op)) return comparison<T>(op, x, y, shape);
    return arithmetic<T>(op, x, y, shape);
  });
}

namespace {
Tensor addScaled(const char* name, const Tensor& a, const Tensor& b, double alpha, bool subtract) {
  if (alpha == 1.0) return binary(subtract ? BinaryOp::Sub : BinaryOp::Add, a, b);
  const DType compute = resultType(a, b);
  if (compute == DType::I1)
    throw std::invalid_argument(fmt::format("{}: alpha is not supported for bool tensors", name));
  if (!ir::isFloating(compute) && alpha != std::trunc(alpha))
    throw std::invalid_argument(fmt::format(
        "{}: for integral input tensors, argument alpha must not be a floating point number", name));
  const Shape shape = broadcastShapes(name, a.shape(), b.shape());
  const Tensor x = toDType(a, compute), y = toDType(b, compute);
  return dispatch(name, compute, [&](auto tag) -> Tensor {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      throw std::logic_error("unreachable");
    } else {
      const T s = static_cast<T>(subtract ? -alpha : alpha);
      return binaryMap<T, T>(x, y, shape, [s](T p, T q) { return T(p + s * q); });
    }
  });
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  return addScaled("add", a, b, alpha, false);
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  if (a.dtype() == DType::I1 || b.dtype() == DType::I1) return binary(BinaryOp::Sub, a, b);
  return addScaled("sub", a, b, alpha, true);
}

// ---- unary ----------------------------------------------------------------------

namespace {

const char* unaryName(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Rsqrt: return "rsqrt";
    case UnaryOp::Abs: return "abs";
    case UnaryOp::LogicalNot: return "logical_not";
    case UnaryOp::Gelu: return "gelu";
    case UnaryOp::Erf: return "erf";
    case UnaryOp::Sin: return "sin";
    case UnaryOp::Cos: return "cos";
    case UnaryOp::Floor: return "floor";
    case UnaryOp::Ceil: return "ceil";
    case UnaryOp::Round: return "round";
    case UnaryOp::Reciprocal: return "reciprocal";
    case UnaryOp::Silu: return "silu";
    case UnaryOp::BitwiseNot: return "bitwise_not";
  }
  return "unary";
}

/// Ops that compute in floating point and promote integer inputs to F32.
bool isFloatFunction(UnaryOp op) {
  switch (op) {
    case UnaryOp::Sigmoid:
    case UnaryOp::Tanh:
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Erf:
    case UnaryOp::Sin:
    case UnaryOp::Cos:
    case UnaryOp::Reciprocal: return true;
    default: return false;
  }
}

template <typename O, typename I, typename F>
Tensor unaryMap(const Tensor& x, F f) {
  Tensor out = Tensor::empty(dtypeOf<O>(), x.shape());
  const I* s = x.data<I>();
  O* d = out.data<O>();
  const int64_t n = x.numel();
  for (int64_t i = 0; i < n; ++i) d[i] = f(s[i]);
  return out;
}

/// An f32 tensor through one of VecMath's array functions.
Tensor vectorUnary(const Tensor& x, void (*f)(const float*, float*, int64_t)) {
  Tensor out = Tensor::empty(DType::F32, x.shape());
  f(x.data<float>(), out.data<float>(), x.numel());
  return out;
}

template <typename T>
Tensor floatUnary(UnaryOp op, const Tensor& x) {
  if constexpr (std::is_same_v<T, float>) {
    switch (op) {
      case UnaryOp::Sigmoid: return vectorUnary(x, sigmoidF32);
      case UnaryOp::Tanh: return vectorUnary(x, tanhF32);
      case UnaryOp::Exp: return vectorUnary(x, expF32);
      case UnaryOp::Silu: return vectorUnary(x, siluF32);
      default: break;
    }
  }
  switch (op) {
    case UnaryOp::Sigmoid: return unaryMap<T, T>(x, [](T v) { return math::sigmoid(v); });
    case UnaryOp::Tanh: return unaryMap<T, T>(x, [](T v) { return std::tanh(v); });
    case UnaryOp::Exp: return unaryMap<T, T>(x, [](T v) { return std::exp(v); });
    case UnaryOp::Log: return unaryMap<T, T>(x, [](T v) { return std::log(v); });
    case UnaryOp::Sqrt: return unaryMap<T, T>(x, [](T v) { return std::sqrt(v); });
    case UnaryOp::Rsqrt: return unaryMap<T, T>(x, [](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::Erf: return unaryMap<T, T>(x, [](T v) { return std::erf(v); });
    case UnaryOp::Sin: return unaryMap<T, T>(x, [](T v) { return std::sin(v); });
    case UnaryOp::Cos: return unaryMap<T, T>(x, [](T v) { return std::cos(v); });
    case UnaryOp::Reciprocal: return unaryMap<T, T>(x, [](T v) { return math::reciprocal(v); });
    case UnaryOp::Gelu: return unaryMap<T, T>(x, [](T v) { return math::gelu(v); });
    case UnaryOp::Silu: return unaryMap<T, T>(x, [](T v) { return math::silu(v); });
    case UnaryOp::Floor: return unaryMap<T, T>(x, [](T v) { return std::floor(v); });
    case UnaryOp::Ceil: return unaryMap<T, T>(x, [](T v) { return std::ceil(v); });
    case UnaryOp::Round: return unaryMap<T, T>(x, [](T v) { return math::roundHalfEven(v); });
    default: break;
  }
  throw std::logic_error("floatUnary: unexpected op");
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x) {
  const char* name = unaryName(op);
  const DType t = x.dtype();
  dispatch(name, t, [](auto) {});
  if (op == UnaryOp::LogicalNot) {
    const Tensor b = toDType(x, DType::I1);
    return unaryMap<bool, bool>(b, [](bool v) { return !v; });
  }
  if (isFloatFunction(op)) {
    const DType ft = ir::isFloating(t) ? t : DType::F32;
    const Tensor y = toDType(x, ft);
    return dispatchFloat(name, ft, [&](auto tag) { return floatUnary<typename decltype(tag)::type>(op, y); });
  }
  switch (op) {
    case UnaryOp::Gelu:
    case UnaryOp::Silu:
      return dispatchFloat(name, t, [&](auto tag) { return floatUnary<typename decltype(tag)::type>(op, x); });
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
      if (isIntegral(t)) return x.clone();  // already integral
      return dispatchFloat(name, t, [&](auto tag) { return floatUnary<typename decltype(tag)::type>(op, x); });
    case UnaryOp::Neg:
      if (t == DType::I1)
        throw std::invalid_argument(
            "neg: negation, the `-` operator, on a bool tensor is not supported; use the `~` or "
            "`logical_not()` operator instead");
      return dispatch(name, t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return unaryMap<T, T>(x, [](T v) { return T(-v); });
      });
    case UnaryOp::Relu:
    case UnaryOp::Abs:
      if (t == DType::I1) throwUnsupported(name, t);
      return dispatch(name, t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if (op == UnaryOp::Abs) return unaryMap<T, T>(x, [](T v) { return v < T(0) ? T(-v) : v; });
        return unaryMap<T, T>(x, [](T v) { return math::relu(v); });
      });
    case UnaryOp::BitwiseNot:
      if (t == DType::I1) return unaryMap<bool, bool>(x, [](bool v) { return !v; });
      if (!isIntegral(t)) throwUnsupported(name, t);
      return dispatch(name, t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
          return unaryMap<T, T>(x, [](T v) { return T(~v); });
        else
          return Tensor();  // unreachable: floats and bool handled above
      });
    default: break;
  }
  throw std::logic_error(fmt::format("{}: unhandled unary op", name));
}

Tensor activation(Activation op, const Tensor& x, const ActivationParams& params) {
  static constexpr const char* kNames[] = {"hardswish", "hardsigmoid", "leaky_relu", "elu", "softplus", "mish"};
  const char* name = kNames[static_cast<int>(op)];
  if (!ir::isFloating(x.dtype())) throwUnsupported(name, x.dtype());
  if (op == Activation::Mish && x.dtype() == DType::F32) return vectorUnary(x, mishF32);
  return dispatchFloat(name, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    return unaryMap<T, T>(x, [&](T v) { return activationValue<T>(op, v, params); });
  });
}

// ---- where / masked_fill / clamp ------------------------------------------------------

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Shape shape =
      broadcastShapes("where", broadcastShapes("where", cond.shape(), a.shape()), b.shape());
  const DType t = resultType(a, b);
  const Tensor c = toDType(cond, DType::I1);
  const Tensor x = toDType(a, t), y = toDType(b, t);
  Tensor out = Tensor::empty(t, shape);
  const Strides sc = broadcastStrides(c.shape(), shape), sa = broadcastStrides(x.shape(), shape),
                sb = broadcastStrides(y.shape(), shape), so = contiguousStrides(shape);
  dispatch("where", t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const bool* pc = c.data<bool>();
    const T* pa = x.data<T>();
    const T* pb = y.data<T>();
    T* po = out.data<T>();
    forEachRun<4>(shape, {&sc, &sa, &sb, &so},
                  [&](std::array<int64_t, 4> off, int64_t n, std::array<int64_t, 4> st) {
                    for (int64_t i = 0; i < n; ++i)
                      po[off[3] + i] = pc[off[0] + i * st[0]] ? pa[off[1] + i * st[1]]
                                                               : pb[off[2] + i * st[2]];
                  });
  });
  return out;
}

Tensor maskedFill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  if (value.dim() != 0)
    throw std::invalid_argument(fmt::format(
        "masked_fill: only supports a 0-dimensional value tensor, but got tensor with {} "
        "dimension(s)",
        value.dim()));
  if (mask.dtype() != DType::I1)
    throw std::invalid_argument(fmt::format(
        "masked_fill: expected the mask to be i1, got {}", ir::dtypeName(mask.dtype())));
  const Shape shape = broadcastShapes("masked_fill", x.shape(), mask.shape());
  const Tensor v = toDType(value, x.dtype());
  const Tensor m = broadcastTo("masked_fill", mask, shape);
  Tensor out = x.shape() == shape ? x.clone() : broadcastTo("masked_fill", x, shape);
  dispatch("masked_fill", x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = out.data<T>();
    const bool* pm = m.data<bool>();
    const T fill = *v.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i)
      if (pm[i]) d[i] = fill;
  });
  return out;
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  if (!min && !max)
    throw std::invalid_argument("clamp: at least one of 'min' or 'max' must not be None");
  if (x.dtype() == DType::I1) throwUnsupported("clamp", x.dtype());
  return dispatch("clamp", x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const bool hasLo = min.has_value(), hasHi = max.has_value();
    const T lo = hasLo ? static_cast<T>(*min) : T(0);
    const T hi = hasHi ? static_cast<T>(*max) : T(0);
    return unaryMap<T, T>(x, [=](T v) {
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(v)) return v;
      if (hasLo && v < lo) v = lo;
      if (hasHi && v > hi) v = hi;
      return v;
    });
  });
}

}  // namespace cocktail::runtime::cpu
