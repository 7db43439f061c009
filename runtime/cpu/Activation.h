//===- runtime/cpu/Activation.h - torch.nn's pointwise activations ----------===//
//
// hardswish, hardsigmoid, leaky_relu, elu, softplus and mish chosen by an enum and
// parameters decoded at load, for the standalone kernel (cpu::activation) and
// the fused elementwise uOperator. What each computes is ir/ElementwiseMath.h's.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/ElementwiseMath.h"

namespace cocktail::runtime::cpu {

enum class Activation { Hardswish, Hardsigmoid, LeakyRelu, Elu, Softplus, Mish };

/// The op's attributes in a fixed order: leaky_relu {negative_slope};
/// elu {alpha, scale, input_scale}; softplus {beta, threshold}.
struct ActivationParams {
  double p0 = 0, p1 = 0, p2 = 0;
};

template <typename T>
inline T activationValue(Activation op, T x, const ActivationParams& p) {
  switch (op) {
    case Activation::Hardswish: return math::hardswish(x);
    case Activation::Hardsigmoid: return math::hardsigmoid(x);
    case Activation::LeakyRelu: return math::leakyRelu(x, static_cast<T>(p.p0));
    case Activation::Elu: return math::elu(x, static_cast<T>(p.p0), static_cast<T>(p.p1), static_cast<T>(p.p2));
    case Activation::Softplus: return math::softplus(x, static_cast<T>(p.p0), static_cast<T>(p.p1));
    case Activation::Mish: return math::mish(x);
  }
  return x;
}

}  // namespace cocktail::runtime::cpu
