//===- passes/Canonicalize.h - Ops that compute nothing, replaced by their input ----===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `canonicalize`: replaces ops whose result is an operand as it is. What
/// TorchScript's `x[:, :, t] = v` lowers to is a chain of full slices and
/// full slice_scatters around the one select_scatter that matters; folding
/// them leaves that write alone, which the memory plan can then do in place:
///   slice(x, 0, end) {step = 1} with end past the dim's bound   -> x
///   slice_scatter(base, src, 0, end) the same, src of base's type -> src
///   copy_into(dst, src) with src of dst's type                    -> src
/// and folds what the static sizes decide, to a fixed point: integer and bool
/// arithmetic and comparisons on constants (not what overflows), size, rank
/// and numel of static dims, and an `if` on a constant condition, replaced
/// by the ops of the branch it takes (narrow's and glu's size checks on
/// static sizes go, with their raise).
/// The folded ops are left without uses, for dce.
std::unique_ptr<Pass> createCanonicalizePass();

}  // namespace cocktail::passes
