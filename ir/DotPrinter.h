//===- ir/DotPrinter.h - The schedule drawn, as a Graphviz graph ------------------===//
//
// What the compiler did, at a glance: each loop and branch a box around its
// body (filled for a persistent region, dashed when the host drives it,
// with the placement's reason), each uOperator a node with its type and its
// partition, fused uOperators with the ops they fuse, work batched out of a
// loop marked with the loop it came from, and the dataflow between them.
// Loop-carried values go back to their loop's header as dashed edges.
// Constants and size queries are left out: they are not work.
//
//   cocktail-compile lstm.pt --input 'xs:f32[T<=64,1,256]' --emit dot | dot -Tsvg > lstm.svg
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

#include "ir/Program.h"

namespace cocktail::ir {

/// The program as a Graphviz `digraph`, value names as printProgram gives them.
std::string printDot(const Program& program);

}  // namespace cocktail::ir
