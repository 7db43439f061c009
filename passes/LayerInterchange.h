//===- passes/LayerInterchange.h - A stacked recurrence run layer by layer ---------===//
//
// A stacked RNN written step by step runs, for each time step, every layer:
//
//   for t in range(T):            # over xs's rows
//     x = xs[t]
//     for l in range(L):
//       h[l], c[l], x = cell_l(x, h[l], c[l])
//     out[t] = x
//
// Each step streams every layer's weights (the suite's LSTM: 20 MB per step,
// far past any core's cache), and layer l's input projection depends on
// layer l-1 of the same step, so no product can leave the time loop. Step
// (t, l) depends only on (t-1, l) and (t, l-1), so running the layers one
// after the other over the whole sequence computes the same values:
//
//   seq = xs
//   for l in range(L):
//     hl, cl = h[l], c[l]
//     for t in range(T):
//       hl, cl, y = cell_l(seq[t], hl, cl);  next[t] = y
//     h[l], c[l] = hl, cl;  seq = next
//   out = seq
//
// and then a layer's weights stay in cache across its T steps, and
// batch-steps computes its input projection for every step at once.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include "passes/Pass.h"

namespace cocktail::passes {

/// `interchange-layers`: the rewrite above, on a `for` loop over the rows
/// of a tensor `xs` (no `break`) whose body is exactly: `x = xs[t]`, a
/// `for` loop over the layers that carries `x` and the stacked states,
/// and `out[t] = x` of its final `x` into the output, which has xs's type.
/// The layer loop may read and write each stacked state only at its own
/// index (`s[l]`, `s[l] = v`, carried whole), and may not read the time
/// step. Anything else leaves the loops as they are. Ops of the layer body
/// that depend only on the layer (`w_ih[l]` of a stacked weight whose dims
/// prove the index in range) run once per layer, before its time loop.
std::unique_ptr<Pass> createLayerInterchangePass();

}  // namespace cocktail::passes
