//===- passes/EpilogueFusion.h - Elementwise ops into a contraction's epilogue -===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `fuse-epilogue`: a conv2d or linear whose only reader is an elementwise
/// op of its shape (a `fused` op, or one fusible op such as relu) joins that
/// reader as the head of one `fused` op: the body starts with the
/// contraction, and the elementwise ops run on each tile of its output while
/// the tile is still in cache (a ResNet block's conv + add + relu is one
/// pass over memory instead of three). See ir::fusedHead.
std::unique_ptr<Pass> createEpilogueFusionPass();

}  // namespace cocktail::passes
