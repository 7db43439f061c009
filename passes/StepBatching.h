//===- passes/StepBatching.h - Per-step work of a loop, done for all steps at once -===//
//
// A recurrence reads its input one step at a time (`x = xs[t]`), but most of
// what it computes from that step does not depend on the loop-carried state:
// an RNN's input projection `W_ih x_t` is one matrix-vector product per step
// that could be one matrix product over every step. Cocktailer's point, on
// the CPU as on the GPU: work that does not depend on the carried state
// leaves the sequential chain.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// The largest batched result the pass creates, at the symbols' bounds:
/// past it, the loop keeps computing its rows one step at a time.
inline constexpr int64_t kMaxBatchedBytes = int64_t{64} << 20;

/// `batch-steps`: in a `for` loop whose trip count is the leading dim of a
/// loop-invariant tensor `X` (`for t in range(X.size(0))`, or a constant
/// trip count equal to it), an op whose operands are rows `X[t]` (a
/// `select` on dim 0 by the induction variable), rows of what this pass
/// already batched, or loop-invariant values, becomes one op over all rows
/// before the loop; the loop selects row `t` of its result. Batched are
/// `linear` (the weights loop-invariant), `matmul` by a loop-invariant
/// matrix, and elementwise ops whose invariant operands broadcast over a row
/// as the types prove. The batched op is marked `batched` with the loop it
/// came from (--emit scheduled shows it).
///
/// Left in place: ops of a loop that may stop early (a `while`, a `break`:
/// batching would compute rows it never reads), ops inside branches, ops
/// whose batched result would exceed kMaxBatchedBytes, and shapes that only
/// a run could check (a dynamic dim an invariant operand must broadcast
/// against). The batched ops cannot fail where the per-step ones could not,
/// so a loop that runs zero times still runs without error.
std::unique_ptr<Pass> createStepBatchingPass();

}  // namespace cocktail::passes
