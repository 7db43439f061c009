//===- passes/LoopInvariantCodeMotion.h - Values a loop recomputes, computed once ---===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `licm`: an op in a loop body whose operands all come from outside the
/// loop computes the same value in every iteration: it moves before the
/// loop (repeatedly, so that what depends only on moved ops follows). Only
/// ops that cannot fail move, since a loop may run zero times: constants,
/// weights, size queries, elementwise math other than integer division,
/// layout changes whose shapes the types fix, and matrix products. Ops with
/// effects, with regions, and indexing (select, slice, gather: an index out
/// of range is an error) stay.
std::unique_ptr<Pass> createLoopInvariantCodeMotionPass();

}  // namespace cocktail::passes
