//===- tests/runtime/kernels/VecMathTest.cpp - The vectorised exp/sigmoid/tanh/silu/mish ===//
//
// Against libm's float functions (the scalar kernels they replace): within
// 4 ulp over random values of every magnitude (8 for mish, whose reference
// chains three of them), libm's results at the edges
// (NaN, infinities, overflow, underflow, the sign of zero), and the same
// bits for a value wherever it sits in the array (the ragged end included).
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/VecMath.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace cocktail::runtime::cpu {
namespace {

using Kernel = void (*)(const float*, float*, int64_t);

struct Function {
  const char* name;
  Kernel kernel;
  float (*reference)(float);
};

const Function kFunctions[] = {
    {"exp", expF32, [](float x) { return std::exp(x); }},
    {"sigmoid", sigmoidF32, [](float x) { return 1.0f / (1.0f + std::exp(-x)); }},
    {"tanh", tanhF32, [](float x) { return std::tanh(x); }},
    {"silu", siluF32, [](float x) { return x / (1.0f + std::exp(-x)); }},
    {"mish", mishF32, [](float x) { return x * std::tanh(std::log1p(std::exp(x))); }},
};

/// Distance in representable floats (both finite, same sign or zero).
int64_t ulps(float a, float b) {
  const auto key = [](float v) {
    const int32_t bits = std::bit_cast<int32_t>(v);
    return bits < 0 ? -static_cast<int64_t>(bits & 0x7fffffff) : static_cast<int64_t>(bits);
  };
  return std::abs(key(a) - key(b));
}

std::vector<float> run(Kernel k, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  k(x.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

TEST(VecMath, WithinFourUlpOfLibm) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> exponent(-12.0f, 2.1f), uniform(-100.0f, 100.0f);
  std::vector<float> x;
  for (int i = 0; i < 200000; ++i) {
    const float magnitude = std::pow(10.0f, exponent(gen));  // 1e-12 .. ~125
    x.push_back(i % 2 ? magnitude : -magnitude);
    x.push_back(uniform(gen));
  }
  for (const Function& f : kFunctions) {
    const std::vector<float> y = run(f.kernel, x);
    int64_t worst = 0;
    float worstAt = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = f.reference(x[i]);
      if (std::isinf(want) || std::isinf(y[i])) {
        ASSERT_EQ(y[i], want) << f.name << "(" << x[i] << ")";
        continue;
      }
      // Results below the normal range carry fewer digits: compare absolutely.
      // So do mish's where exp(x) is below it (x < -87.3: x * exp(x) is
      // still normal down to -91, but made of a denormal): to 1e-3 of it.
      const bool fromDenormalExp = f.kernel == mishF32 && std::exp(x[i]) < std::numeric_limits<float>::min();
      if (std::fabs(want) < std::numeric_limits<float>::min() || fromDenormalExp) {
        ASSERT_LE(std::fabs(y[i] - want), 4 * std::numeric_limits<float>::denorm_min() + 1e-3f * std::fabs(want))
            << f.name << "(" << x[i] << ")";
        continue;
      }
      const int64_t d = ulps(y[i], want);
      if (d > worst) worst = d, worstAt = x[i];
    }
    // mish's reference chains three libm calls, each up to an ulp or two off.
    EXPECT_LE(worst, f.kernel == mishF32 ? 8 : 4) << f.name << " is " << worst << " ulp off at " << worstAt;
  }
}

TEST(VecMath, EdgesAsLibm) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float big = std::numeric_limits<float>::max(), tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> x = {0.0f,     -0.0f,  inf,      -inf,   nan,    88.72f,  88.73f, 89.5f,  -87.5f,
                                -103.9f,  -104.5f, -200.0f, 200.0f, big,    -big,    tiny,   -tiny,  1e-30f,
                                -1e-30f, 0.625f, -0.625f,   0.6249f, 9.0f,  -9.0f,   20.0f,  -20.0f};
  for (const Function& f : kFunctions) {
    const std::vector<float> y = run(f.kernel, x);
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = f.reference(x[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(y[i])) << f.name << "(" << x[i] << ") = " << y[i];
      } else if (std::fabs(want) < std::numeric_limits<float>::min() || std::isinf(want)) {
        EXPECT_EQ(y[i], want) << f.name << "(" << x[i] << ")";
        EXPECT_EQ(std::signbit(y[i]), std::signbit(want)) << f.name << "(" << x[i] << ")";
      } else {
        EXPECT_LE(ulps(y[i], want), 4) << f.name << "(" << x[i] << ") = " << y[i] << ", libm " << want;
      }
    }
  }
}

TEST(VecMath, SameBitsWhereverTheValueSits) {
  std::mt19937 gen(8);
  std::uniform_real_distribution<float> d(-6.0f, 6.0f);
  std::vector<float> x(37);
  for (float& v : x) v = d(gen);
  for (const Function& f : kFunctions) {
    const std::vector<float> whole = run(f.kernel, x);
    for (size_t i = 0; i < x.size(); ++i) {
      float one = 0;
      f.kernel(&x[i], &one, 1);
      EXPECT_EQ(std::bit_cast<uint32_t>(one), std::bit_cast<uint32_t>(whole[i])) << f.name << " at " << i;
    }
    // In place, as the fused kernels call it.
    std::vector<float> inPlace = x;
    f.kernel(inPlace.data(), inPlace.data(), static_cast<int64_t>(inPlace.size()));
    EXPECT_EQ(inPlace, whole) << f.name;
  }
}

}  // namespace
}  // namespace cocktail::runtime::cpu
