//===- frontend/TypeRefinement.h - Dtype and rank through loops and branches ------===//
//
// TorchScript's own shape analysis gives up on a value carried around a loop
// that it cannot type on the first try (a decoder's token, embedded, fed to
// nn.GRUCell, whose `input.dim()` guard then stays), and on factories whose
// size list is not constant. This analysis follows dtype and rank only, for
// the ops users' recurrent models are made of, and evaluates the guards it
// meets (dim, dtype, comparisons, `not`, `in`) as it goes, so that a branch
// the guard rules out does not blur the types after it. Loops iterate from
// their initial values to a fixed point, so what it sets holds for every
// iteration. Internal to the frontend (it includes LibTorch).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include <torch/csrc/jit/ir/ir.h>

namespace cocktail::frontend {

/// Refines the tensor types of `graph`'s values (dtype, rank, device) from
/// its inputs' types. Returns true when any type changed.
bool refineTensorTypes(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace cocktail::frontend
