//===- tests/ir/ElementwiseMathTest.cpp - The one definition of elementwise math ------===//
//
// ir/ElementwiseMath.h is what every backend computes, so its cases are
// PyTorch's and Python's answers, worked out by hand (each case says where
// a plainer formula would differ): signs of floor division and remainder,
// NaN through max/min/relu/activations, wrap-around and negative powers.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "ir/ElementwiseMath.h"

namespace cocktail::math {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(ElementwiseMath, FloorDivisionOnFloatsIsPythons) {
  EXPECT_EQ(floorDivideFloat(7.0, 2.0), 3.0);
  EXPECT_EQ(floorDivideFloat(-7.0, 2.0), -4.0);
  EXPECT_EQ(floorDivideFloat(7.5, -2.0), -4.0);
  // floor(1 / 0.1) is 10, but 0.1 is slightly more than a tenth: Python says 9.
  EXPECT_EQ(floorDivideFloat(1.0, 0.1), 9.0);
  EXPECT_EQ(floorDivideFloat(1.0f, 0.1f), 9.0f);
  // A zero quotient keeps the sign of the true quotient.
  EXPECT_TRUE(std::signbit(floorDivideFloat(-0.0, 5.0)));
  EXPECT_TRUE(std::isinf(floorDivideFloat(1.0, 0.0)));
}

TEST(ElementwiseMath, FloorDivisionAndRemainderOnIntsArePythons) {
  EXPECT_EQ(floorDivideInt<int64_t>(-7, 2), -4);
  EXPECT_EQ(floorDivideInt<int64_t>(7, -2), -4);
  EXPECT_EQ(floorDivideInt<int64_t>(-7, -2), 3);
  EXPECT_EQ(floorDivideInt<int64_t>(-6, 3), -2);
  EXPECT_EQ(floorDivideInt<int64_t>(kMin, -1), kMin);  // wraps; no trap
  EXPECT_EQ(remainderInt<int64_t>(-7, 2), 1);
  EXPECT_EQ(remainderInt<int64_t>(7, -2), -1);
  EXPECT_EQ(remainderInt<int64_t>(kMin, -1), 0);
  EXPECT_EQ(remainderInt<int32_t>(-1, 5), 4);
}

TEST(ElementwiseMath, RemainderOnFloatsTakesTheDivisorsSign) {
  EXPECT_EQ(remainderFloat(-7.5, 2.0), 0.5);
  EXPECT_EQ(remainderFloat(7.5, -2.0), -0.5);
  EXPECT_EQ(remainderFloat(-4.0, 2.0), 0.0);
}

TEST(ElementwiseMath, NaNPassesThroughMaxMinReluAndActivations) {
  EXPECT_TRUE(std::isnan(maximum(1.0, kNaN)));
  EXPECT_TRUE(std::isnan(maximum(kNaN, 1.0)));
  EXPECT_TRUE(std::isnan(minimum(1.0, kNaN)));
  EXPECT_EQ(maximum<int64_t>(-3, 2), 2);
  // `x > 0 ? x : 0` would give 0.
  EXPECT_TRUE(std::isnan(relu(kNaN)));
  EXPECT_TRUE(std::isnan(hardswish(kNaN)));
  EXPECT_TRUE(std::isnan(hardsigmoid(kNaN)));
  EXPECT_TRUE(std::isnan(mish(kNaN)));
  EXPECT_EQ(relu(-2.0), 0.0);
}

TEST(ElementwiseMath, IntegerPowersTruncateNegativeExponents) {
  EXPECT_EQ(intPow<int64_t>(3, 4), 81);
  EXPECT_EQ(intPow<int64_t>(2, -1), 0);
  EXPECT_EQ(intPow<int64_t>(-1, -3), -1);
  EXPECT_EQ(intPow<int64_t>(-1, -2), 1);
  EXPECT_EQ(intPow<int64_t>(1, -7), 1);
  // Past int64 it wraps, as ATen's does, instead of overflowing (UBSan checks).
  EXPECT_EQ(intPow<int64_t>(2, 64), 0);
  EXPECT_EQ(intPow<int32_t>(3, 21), static_cast<int32_t>(10460353203LL & 0xffffffffLL));
}

TEST(ElementwiseMath, FunctionsMatchTheirFormulas) {
  EXPECT_DOUBLE_EQ(sigmoid(0.0), 0.5);
  EXPECT_DOUBLE_EQ(silu(2.0), 2.0 / (1.0 + std::exp(-2.0)));
  EXPECT_NEAR(gelu(1.0), 0.8413447460685429, 1e-15);
  EXPECT_EQ(roundHalfEven(2.5), 2.0);
  EXPECT_EQ(roundHalfEven(-3.5), -4.0);
  EXPECT_EQ(hardswish(1.0), 1.0 * 4.0 / 6.0);
  EXPECT_EQ(hardsigmoid(5.0), 1.0);
  EXPECT_EQ(leakyRelu(-2.0, 0.1), -0.2);
  EXPECT_DOUBLE_EQ(elu(-1.0, 1.5, 2.0, 0.5), std::expm1(-0.5) * 3.0);
  EXPECT_EQ(elu(2.0, 1.5, 2.0, 0.5), 4.0);
  EXPECT_DOUBLE_EQ(softplus(1.0, 2.0, 20.0), std::log1p(std::exp(2.0)) / 2.0);
  EXPECT_EQ(softplus(30.0, 1.0, 20.0), 30.0);  // past the threshold: x itself
  EXPECT_DOUBLE_EQ(mish(1.5), 1.5 * std::tanh(std::log1p(std::exp(1.5))));
  EXPECT_EQ(mish(100.0f), 100.0f);  // exp overflows to inf: tanh(inf) = 1
  EXPECT_EQ(mish(-200.0f), 0.0f);   // expf underflows to 0: a (negative) zero
}

}  // namespace
}  // namespace cocktail::math
