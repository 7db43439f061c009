//===- passes/DeadCodeElimination.h - Remove ops whose results are unused -------===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `dce`: removes ops without side effects whose results nobody uses, inside
/// loop and if bodies too. Islands (TorchScript may raise in them) and
/// terminators stay; a loop or if goes only when nothing inside it stays.
/// Weight declarations no op reads any more are dropped.
std::unique_ptr<Pass> createDeadCodeEliminationPass();

}  // namespace cocktail::passes
