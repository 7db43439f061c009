//===- passes/ElementwiseFusion.h - Elementwise chains become one uOperator -------===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `fuse-elementwise`: groups chains of f32 elementwise ops (add, mul,
/// sigmoid, tanh, ...) whose tensors all have the same shape into one
/// `fused` op, whose body holds the chain and yields the values used outside
/// it. A fused op is one uOperator: one pass over memory, intermediates kept
/// in registers, one dispatch instead of one per op (an LSTM cell's gate math
/// is eleven ops, one fused op). Ops of another shape or dtype, and everything
/// that is not elementwise, end a group where they read one of its values.
std::unique_ptr<Pass> createElementwiseFusionPass();

/// True when `op` may be a member of a fused op (the executors implement
/// exactly these inside a fused body).
bool isFusibleElementwise(const ir::Op& op);

}  // namespace cocktail::passes
