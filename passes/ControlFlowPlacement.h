//===- passes/ControlFlowPlacement.h - Where each loop and branch runs --------------===//
#pragma once

#include <memory>

#include "passes/Pass.h"
#include "passes/TargetModel.h"

namespace cocktail::passes {

/// `place-control-flow`: decides for every `loop` whether it runs inside a
/// persistent region on the device (one launch for the whole loop, barriers
/// between its uOperators, the condition evaluated in place) or per step
/// from the host, and marks every `if` as decided on the device or the host.
/// The cost model weighs the launches a host-driven loop pays per iteration
/// against the barriers a persistent one pays and the work of an iteration.
/// A persistent loop also gets its weight residency: the weights its body
/// reads stay on chip across iterations when they fit the target's budget.
///
/// Annotations (visible in `--emit scheduled`):
///   placement = "persistent" | "host" (loops), "device" | "host" (ifs)
///   reason = "..."                       why, with the numbers
///   resident = "@w1, @w2"                persistent loops: weights kept on chip
///   residency = "..."                    why the rest is not
std::unique_ptr<Pass> createControlFlowPlacementPass(TargetModel target = TargetModel::cpu());

}  // namespace cocktail::passes
