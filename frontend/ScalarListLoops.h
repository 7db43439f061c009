//===- frontend/ScalarListLoops.h - Lists of numbers built by loops over dims ------===//
//
// PyTorch's functional code builds lists of sizes and scales with a
// comprehension over a tensor's dims (F.interpolate's `[scale_factor for _
// in range(dim)]`, `[int(math.floor(float(input.size(i + 2)) *
// scale_factors[i])) for i in range(dim)]`). Once the specs fix the rank,
// such a loop has a constant trip count: it is unrolled, and the appends
// that follow a list's construction in one block are folded into it, so the
// list is a plain ListConstruct whose elements constant propagation and the
// size folds reach. Loops over tensors are left alone: they are the loops the
// scheduler wants to see. Internal to the frontend (it includes LibTorch).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include <torch/csrc/jit/ir/ir.h>

namespace cocktail::frontend {

/// Unrolls the loops of constant trip count (at most a few steps) that append
/// numbers (not tensors) to a list made outside them. True when one changed.
bool unrollScalarListLoops(const std::shared_ptr<torch::jit::Graph>& graph);

/// True when no use of `list` can write into it (by its schema), so its
/// ListConstruct's elements are its elements everywhere.
bool neverWritten(const torch::jit::Value* list);

/// `l = [x]; l.append(a); l[0] = b` then only reads: `l = [b, a]`; and
/// `l.copy()` of a known list is a new ListConstruct. True when one changed.
bool foldAppendsIntoLists(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace cocktail::frontend
