//===- passes/BranchSplit.h - Work both branches of an if do, done before it --------===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `branch-split`: an op that both branches of an `if` compute alike (the
/// same kind, attributes and result types, on the same values from outside
/// the `if`) is done once before it, and both branches use that result
/// (Cocktailer's branch split). What is left in each branch is only what
/// differs, so the branch is cheaper to place on the device, and the shared
/// part is scheduled with the ops around the `if`. Repeated until nothing
/// more moves: a hoisted op's result is a value from outside, so what uses
/// it in both branches may follow. Ops with effects (raise, islands) and ops
/// with regions stay.
std::unique_ptr<Pass> createBranchSplitPass();

}  // namespace cocktail::passes
