//===- ir/ElementwiseMath.h - What an elementwise op computes on one element ----===//
//
// The one definition of every elementwise op whose meaning is more than one
// C++ operator: floor division and remainder with Python's signs, max/min
// that let NaN through, relu, sigmoid, gelu, silu, integer powers, rounding
// and torch.nn's activations. The formulas are ATen's CPU kernels' (and
// CPython's for floor division), so every backend agrees with PyTorch and
// with each other bit for bit where the math library does:
//   - the CPU executor's scalar math (runtime/ScalarMath.cpp),
//   - the CPU kernels' element loops (runtime/cpu/Elementwise.cpp, Activation.h),
//   - the fused elementwise bodies (runtime/FusedElementwise.cpp),
//   - the generated CUDA, whose every module starts with this file's text.
// Vectorised kernels (runtime/cpu/VecMath.cpp) approximate a few of these
// (exp, sigmoid, tanh to 1-2 ulp, mish to a few); their tests compare against
// this file's formulas.
//
// So that the same text compiles as device code under NVRTC: no exceptions,
// no standard library, only the C math functions and COCKTAIL_MATH functions.
// Integer division and remainder require a divisor that is not zero (callers
// check, and report the error their own way).
//
//===----------------------------------------------------------------------===//
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define COCKTAIL_MATH __host__ __device__ __forceinline__
#else
#include <math.h>  // the C functions by name (floorf, ...), as on the device
#define COCKTAIL_MATH inline
#endif

namespace cocktail {
namespace math {

// ---- the C math library by argument type -------------------------------------
// One overload per type, so that a template below serves f32 and f64 alike
// (the f-suffixed functions for f32, as the device has them).
COCKTAIL_MATH float cFloor(float x) { return floorf(x); }
COCKTAIL_MATH double cFloor(double x) { return floor(x); }
COCKTAIL_MATH float cFmod(float x, float y) { return fmodf(x, y); }
COCKTAIL_MATH double cFmod(double x, double y) { return fmod(x, y); }
COCKTAIL_MATH float cExp(float x) { return expf(x); }
COCKTAIL_MATH double cExp(double x) { return exp(x); }
COCKTAIL_MATH float cExpm1(float x) { return expm1f(x); }
COCKTAIL_MATH double cExpm1(double x) { return expm1(x); }
COCKTAIL_MATH float cLog1p(float x) { return log1pf(x); }
COCKTAIL_MATH double cLog1p(double x) { return log1p(x); }
COCKTAIL_MATH float cTanh(float x) { return tanhf(x); }
COCKTAIL_MATH double cTanh(double x) { return tanh(x); }
COCKTAIL_MATH float cErf(float x) { return erff(x); }
COCKTAIL_MATH double cErf(double x) { return erf(x); }
COCKTAIL_MATH float cCopysign(float x, float y) { return copysignf(x, y); }
COCKTAIL_MATH double cCopysign(double x, double y) { return copysign(x, y); }
COCKTAIL_MATH float cRint(float x) { return rintf(x); }
COCKTAIL_MATH double cRint(double x) { return rint(x); }

template <typename T>
COCKTAIL_MATH bool isNaN(T x) {
  return x != x;
}

/// a * b and -a on integers, wrapping as two's complement does (as ATen's
/// int64 arithmetic) instead of overflowing, which is undefined in C++.
template <typename T>
COCKTAIL_MATH T wrappingMul(T a, T b) {
  return static_cast<T>(static_cast<unsigned long long>(a) * static_cast<unsigned long long>(b));
}
template <typename T>
COCKTAIL_MATH T wrappingNeg(T a) {
  return static_cast<T>(0ULL - static_cast<unsigned long long>(a));
}

// ---- arithmetic ------------------------------------------------------------------

/// Python's `a // b` on floats (CPython's float_floor_div, which ATen's
/// div_floor follows): the floor of the exact quotient, not of the rounded
/// a / b, with a signed zero; a zero divisor gives a / b (inf or NaN).
template <typename T>
COCKTAIL_MATH T floorDivideFloat(T a, T b) {
  if (b == T(0)) return a / b;
  const T mod = cFmod(a, b);
  T div = (a - mod) / b;
  if (mod != T(0) && (b < T(0)) != (mod < T(0))) div -= T(1);
  if (div == T(0)) return cCopysign(T(0), a / b);
  T floored = cFloor(div);
  if (div - floored > T(0.5)) floored += T(1);
  return floored;
}

/// Python's `a // b` on integers: rounds toward negative infinity. b != 0;
/// the most negative value // -1 wraps, as two's complement does.
template <typename T>
COCKTAIL_MATH T floorDivideInt(T a, T b) {
  if (b == T(-1)) return wrappingNeg(a);
  const T q = static_cast<T>(a / b);
  return (a % b != T(0) && ((a < T(0)) != (b < T(0)))) ? static_cast<T>(q - T(1)) : q;
}

/// Python's `a % b` on floats: the sign of b.
template <typename T>
COCKTAIL_MATH T remainderFloat(T a, T b) {
  T m = cFmod(a, b);
  if (m != T(0) && ((b < T(0)) != (m < T(0)))) m += b;
  return m;
}

/// Python's `a % b` on integers: the sign of b. b != 0.
template <typename T>
COCKTAIL_MATH T remainderInt(T a, T b) {
  if (b == T(-1)) return T(0);  // a % -1 traps for the most negative a
  const T m = static_cast<T>(a % b);
  return (m != T(0) && ((b < T(0)) != (m < T(0)))) ? static_cast<T>(m + b) : m;
}

/// torch.maximum / torch.minimum: NaN in either operand gives NaN (a NaN
/// `b` loses every comparison, so it is chosen). One select, so loops of it
/// vectorise.
template <typename T>
COCKTAIL_MATH T maximum(T a, T b) {
  return (isNaN(a) || a > b) ? a : b;
}
template <typename T>
COCKTAIL_MATH T minimum(T a, T b) {
  return (isNaN(a) || a < b) ? a : b;
}

/// Integer `base ** exp`; a negative exponent truncates toward zero, as ATen's.
template <typename T>
COCKTAIL_MATH T intPow(T base, T exp) {
  if (exp < T(0)) {
    if (base == T(1)) return T(1);
    if (base == T(-1)) return (exp % T(2) == T(0)) ? T(1) : T(-1);
    return T(0);
  }
  T result = T(1);
  while (exp != T(0)) {
    if ((exp & T(1)) != T(0)) result = wrappingMul(result, base);
    exp = static_cast<T>(exp >> 1);
    base = wrappingMul(base, base);
  }
  return result;
}

// ---- unary functions -----------------------------------------------------------------

/// max(x, 0) that keeps NaN, as ATen's clamp_min does.
template <typename T>
COCKTAIL_MATH T relu(T x) {
  return x < T(0) ? T(0) : x;
}

template <typename T>
COCKTAIL_MATH T sigmoid(T x) {
  return T(1) / (T(1) + cExp(-x));
}

/// x * sigmoid(x), in ATen's form.
template <typename T>
COCKTAIL_MATH T silu(T x) {
  return x / (T(1) + cExp(-x));
}

/// The exact (erf) gelu, torch's default.
template <typename T>
COCKTAIL_MATH T gelu(T x) {
  return T(0.5) * x * (T(1) + cErf(x * T(0.70710678118654752440)));
}

template <typename T>
COCKTAIL_MATH T reciprocal(T x) {
  return T(1) / x;
}

/// torch.round: half to even (the current rounding mode's rint).
template <typename T>
COCKTAIL_MATH T roundHalfEven(T x) {
  return cRint(x);
}

// ---- torch.nn's activations ----------------------------------------------------------
// (ATen's aten/src/ATen/native/cpu/Activation.cpp). Comparisons, not fmin or
// fmax, so that NaN passes through.

/// min(max(x, 0), 6), NaN kept.
template <typename T>
COCKTAIL_MATH T clamp0To6(T x) {
  x = x < T(0) ? T(0) : x;
  return x > T(6) ? T(6) : x;
}
template <typename T>
COCKTAIL_MATH T hardswish(T x) {
  return x * clamp0To6(x + T(3)) / T(6);
}
template <typename T>
COCKTAIL_MATH T hardsigmoid(T x) {
  return clamp0To6(x + T(3)) / T(6);
}
template <typename T>
COCKTAIL_MATH T leakyRelu(T x, T negativeSlope) {
  return x > T(0) ? x : x * negativeSlope;
}
/// alpha * scale * expm1(x * inputScale) below zero, scale * x above.
template <typename T>
COCKTAIL_MATH T elu(T x, T alpha, T scale, T inputScale) {
  return x > T(0) ? x * scale : cExpm1(x * inputScale) * (alpha * scale);
}
/// log1p(exp(beta * x)) / beta, or x where beta * x passes the threshold.
template <typename T>
COCKTAIL_MATH T softplus(T x, T beta, T threshold) {
  const T bx = x * beta;
  return bx > threshold ? x : cLog1p(cExp(bx)) / beta;
}
/// x * tanh(softplus(x)), ATen's formula (no threshold: exp's inf gives x).
template <typename T>
COCKTAIL_MATH T mish(T x) {
  return x * cTanh(cLog1p(cExp(x)));
}

}  // namespace math
}  // namespace cocktail
