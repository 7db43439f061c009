//===- passes/CommonSubexpressionElimination.h - One value computed once ----------===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `cse`: an op that computes what an earlier op already computed (same
/// kind, same operands, same attributes, same result types) is replaced by
/// that op's results. "Earlier" means visible from here: before it in the
/// same region or in a region that encloses it, never in a sibling branch.
/// The IR has value semantics, so equal inputs give equal results; what is
/// not a pure computation stays: ops with regions (loops, ifs, fused
/// bodies), islands, raises, undefs and terminators. Users' models repeat
/// themselves (`x.size(0)` read per use, the same transpose or product
/// written twice); the replaced ops are left without uses, for dce.
std::unique_ptr<Pass> createCommonSubexpressionEliminationPass();

}  // namespace cocktail::passes
