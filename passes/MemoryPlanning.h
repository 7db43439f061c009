//===- passes/MemoryPlanning.h - Every tensor at a fixed offset in one arena --------===//
#pragma once

#include <memory>

#include "passes/Pass.h"
#include "passes/TargetModel.h"

namespace cocktail::passes {

/// `plan-memory`: gives every tensor the program computes a fixed place in
/// one arena, sized at its dims' upper bounds, so that a run needs no
/// allocation: tensors whose lifetimes do not overlap share bytes.
/// A view that may be strided (a transpose, an expand, a column) is a view
/// only on a target that reads strided views in place
/// (TargetModel::readsStridedViews); on the CPU it is a copy with its own bytes.
///
/// Lifetimes come from liveness over the program in order. A value from
/// outside a loop that the body reads lives until the loop ends, since every
/// iteration reads it again. Views (select, slice, chunk, reshape, ...) take
/// no bytes of their own and keep their operand's buffer alive; a functional
/// write (select_scatter, copy_into, ...) reuses its base's buffer when
/// nothing reads the old value afterwards, which is what keeps `out[t] = h`
/// in a loop from copying `out` every step.
///
/// Annotations:
///   mem = [offset, ...]  per result: its byte offset in the arena; -1 for a
///                        scalar, or a tensor with a dim of unknown bound
///                        (allocated when it runs)
///   mem_alias = 0        the results live in operand 0's buffer: a view of
///                        it, or its bytes written in place
///   on a loop, mem holds one buffer per carried value (the body's arguments
///   and the loop's results are that buffer; an executor copies a yielded
///   value there when the body left it elsewhere);
///   on the function: arena_bytes = N, arena_align = A.
/// ir/Schedule.h declares them and their accessors.
std::unique_ptr<Pass> createMemoryPlanningPass(TargetModel target = TargetModel::cpu());

}  // namespace cocktail::passes
