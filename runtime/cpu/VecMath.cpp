//===- runtime/cpu/VecMath.cpp ------------------------------------------------------===//
//
// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln 2 / 2; e^r from
// Cephes expf's degree-6 polynomial. 2^n is built in the exponent bits in
// two halves, so that n from -150 to 128 needs no special case: the product
// overflows to inf or underflows through the denormals as libm's does.
// tanh(x) takes Cephes tanhf's odd polynomial below |x| = 0.625, where
// 1 - 2 / (exp(2|x|) + 1) would lose digits to cancellation.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/VecMath.h"

#include <bit>
#include <cstring>
#include <limits>

#include "runtime/cpu/Vec16.h"

namespace cocktail::runtime::cpu {

namespace {

using namespace vec;
using I16 = int32_t __attribute__((vector_size(64)));

/// A lane-wise select: mask ? a : b (mask from a vector comparison).
[[gnu::always_inline]] inline V16 pick(I16 mask, V16 a, V16 b) { return mask ? a : b; }

[[gnu::always_inline]] inline V16 expV(V16 x) {
  // Beyond these, the result is inf or 0 whatever the polynomial says; the
  // clamp keeps n within the two halves' range.
  V16 xc = pick(x < splat(-104.0f), splat(-104.0f), x);
  xc = pick(xc > splat(89.0f), splat(89.0f), xc);
  // Round x / ln 2 to the nearest integer: adding 1.5 * 2^23 leaves it in
  // the low mantissa bits.
  const V16 magic = splat(12582912.0f);
  const V16 t = xc * splat(1.44269504088896341f) + magic;
  const V16 n = t - magic;
  // r = x - n ln 2, with ln 2 in two parts so that n * ln2hi is exact.
  V16 r = xc - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  V16 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  V16 y = p * (r * r) + r + splat(1.0f);
  const I16 ni = std::bit_cast<I16>(t) - std::bit_cast<I16>(magic);
  const I16 n1 = ni >> 1, n2 = ni - n1;
  const I16 b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  y = y * std::bit_cast<V16>(b1) * std::bit_cast<V16>(b2);
  // exp(x) > FLT_MAX from here on.
  y = pick(x > splat(88.72283935546875f), splat(std::numeric_limits<float>::infinity()), y);
  return pick(x != x, x, y);
}

[[gnu::always_inline]] inline V16 tanhV(V16 x) {
  const V16 ax = pick(x < splat(0.0f), -x, x);
  const V16 big = splat(1.0f) - splat(2.0f) / (expV(ax + ax) + splat(1.0f));
  const V16 s = x * x;
  V16 p = splat(-5.70498872745e-3f);
  p = p * s + splat(2.06390887954e-2f);
  p = p * s + splat(-5.37397155531e-2f);
  p = p * s + splat(1.33314422036e-1f);
  p = p * s + splat(-3.33332819422e-1f);
  const V16 small = p * s * x + x;
  V16 y = pick(ax < splat(0.625f), small, pick(x < splat(0.0f), -big, big));
  y = pick(ax == splat(0.0f), x, y);  // tanh(-0) is -0
  return pick(x != x, x, y);
}

enum class Fn { Exp, Sigmoid, Tanh, Silu, Mish };

/// x * tanh(log1p(exp(x))) with one exp: tanh(log(1 + e)) = n / (n + 2) for
/// n = e * (e + 2). Past x = 20 that is 1 to within a float (and n would
/// overflow from 44 on): x itself, as ATen's overflow to tanh(inf) gives.
[[gnu::always_inline]] inline V16 mishV(V16 x) {
  const V16 e = expV(x);
  const V16 n = e * (e + splat(2.0f));
  return pick(x > splat(20.0f), x, x * n / (n + splat(2.0f)));
}

/// A template argument, not a lambda: a lambda's call operator is a
/// function of its own, compiled for the baseline, not for the clone.
template <Fn F>
[[gnu::always_inline]] inline V16 eval(V16 v) {
  if constexpr (F == Fn::Exp) return expV(v);
  if constexpr (F == Fn::Sigmoid) return splat(1.0f) / (splat(1.0f) + expV(-v));
  if constexpr (F == Fn::Tanh) return tanhV(v);
  if constexpr (F == Fn::Silu) return v / (splat(1.0f) + expV(-v));
  if constexpr (F == Fn::Mish) return mishV(v);
}

/// F over x[0, n) into y, 16 at a time; the ragged end through a padded
/// vector, so that it takes the same code as the rest.
template <Fn F>
[[gnu::always_inline]] inline void apply(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) store(y + i, eval<F>(load(x + i)));
  if (i < n) {
    alignas(64) float tail[16] = {};
    std::memcpy(tail, x + i, static_cast<size_t>(n - i) * sizeof(float));
    const V16 v = eval<F>(load(tail));
    std::memcpy(y + i, &v, static_cast<size_t>(n - i) * sizeof(float));
  }
}

}  // namespace

COCKTAIL_MULTIVERSION
void expF32(const float* x, float* y, int64_t n) { apply<Fn::Exp>(x, y, n); }

COCKTAIL_MULTIVERSION
void sigmoidF32(const float* x, float* y, int64_t n) { apply<Fn::Sigmoid>(x, y, n); }

COCKTAIL_MULTIVERSION
void tanhF32(const float* x, float* y, int64_t n) { apply<Fn::Tanh>(x, y, n); }

COCKTAIL_MULTIVERSION
void siluF32(const float* x, float* y, int64_t n) { apply<Fn::Silu>(x, y, n); }

COCKTAIL_MULTIVERSION
void mishF32(const float* x, float* y, int64_t n) { apply<Fn::Mish>(x, y, n); }

}  // namespace cocktail::runtime::cpu
