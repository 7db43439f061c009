//===- passes/ShapeContradictions.h - Operand shapes an op cannot take -----------===//
//
// An input spec can contradict a weight: `x:f32[1,513]` into a Linear(512, 256)
// translates to a well-typed `linear` whose operands' inner dims disagree. Shape
// inference asks this for each op, so that such a program is a compile-time
// error at the op's source line instead of a failure of the run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>

#include "ir/Op.h"

namespace cocktail::passes {

/// Why `op`'s operands cannot go together (a contraction's inner dims, a
/// convolution's channels), judged only on dims both sides know as
/// constants; nothing when they may.
std::optional<std::string> shapeContradiction(const ir::Op& op);

}  // namespace cocktail::passes
