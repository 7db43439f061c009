//===- runtime/cpu/Activation.h - torch.nn's pointwise activations ----------===//
//
// The one definition of hardswish, hardsigmoid, leaky_relu, elu and softplus
// on a number, shared by the standalone kernel (cpu::activation) and the
// fused elementwise uOperator, so the two give the same bits. Formulas are
// ATen's CPU kernels' (aten/src/ATen/native/cpu/Activation.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <cmath>

namespace cocktail::runtime::cpu {

enum class Activation { Hardswish, Hardsigmoid, LeakyRelu, Elu, Softplus };

/// The op's attributes in a fixed order: leaky_relu {negative_slope};
/// elu {alpha, scale, input_scale}; softplus {beta, threshold}.
struct ActivationParams {
  double p0 = 0, p1 = 0, p2 = 0;
};

template <typename T>
inline T activationValue(Activation op, T x, const ActivationParams& p) {
  switch (op) {
    // std::min/max, not fmin/fmax: NaN passes through, as in ATen.
    case Activation::Hardswish: return x * std::min(std::max(x + T(3), T(0)), T(6)) / T(6);
    case Activation::Hardsigmoid: return std::min(std::max(x + T(3), T(0)), T(6)) / T(6);
    case Activation::LeakyRelu: return x > T(0) ? x : x * static_cast<T>(p.p0);
    case Activation::Elu:
      // alpha * scale * expm1(x * input_scale) below zero, scale * x above.
      return x > T(0) ? x * static_cast<T>(p.p1)
                      : std::expm1(x * static_cast<T>(p.p2)) * static_cast<T>(p.p0 * p.p1);
    case Activation::Softplus: {
      const T bx = x * static_cast<T>(p.p0);
      return bx > static_cast<T>(p.p1) ? x : std::log1p(std::exp(bx)) / static_cast<T>(p.p0);
    }
  }
  return x;
}

}  // namespace cocktail::runtime::cpu
