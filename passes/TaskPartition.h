//===- passes/TaskPartition.h - uOperators split into uTasks, and their syncs -------===//
#pragma once

#include <memory>

#include "passes/Pass.h"
#include "passes/TargetModel.h"

namespace cocktail::passes {

/// `partition`: splits every uOperator into uTasks (output tiles) sized for
/// the target: no more tiles than workers on a CPU, none smaller than the
/// target's minimum (a tile must pay for its dispatch). Then decides how each
/// uOperator waits for its producers in the same region: a per-tile
/// dependency counter when tile i needs only producer tile i (elementwise
/// after elementwise on the same tiling), a full barrier when it needs every
/// producer tile (a GEMV reads all of its input vector), nothing when its
/// inputs come from outside the region.
///
/// Annotations: tiles = N, tile_elems = E, sync = "none" | "counter" | "barrier".
std::unique_ptr<Pass> createTaskPartitionPass(TargetModel target = TargetModel::cpu());

}  // namespace cocktail::passes
