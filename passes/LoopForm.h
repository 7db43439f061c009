//===- passes/LoopForm.h - What a loop's header says about its trips --------------===//
//
// The loop-restructuring passes (batch-steps, interchange-layers) apply to
// `for` loops over the rows of a tensor; these are the facts they ask of a
// loop's header and its yield.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>

#include "ir/Op.h"
#include "ir/Type.h"

namespace cocktail::passes {

/// The value of an i64 `constant`; nullopt for anything else.
std::optional<int64_t> constantIntOf(const ir::Value* v);

/// Whether `v` is the i1 `constant true`.
bool isConstantTrue(const ir::Value* v);

/// Whether the loop runs every trip its count allows: a `for` without
/// `break`, its first condition and every later one `constant true`.
bool runsEveryTrip(const ir::Op& loop);

/// The dim the loop's trip count is, for a loop that runs every trip: its
/// count is `size(V, 0)` (the dim V's type has there) or a constant.
std::optional<ir::Dim> tripCountDim(const ir::Op& loop);

/// Whether `op` is `select(x, index)` on dim 0 (any x when null).
bool isSelectRow(const ir::Op& op, const ir::Value* x, const ir::Value* index);

/// Whether `op` is `select_scatter(into, v, index)` on dim 0.
bool isScatterRow(const ir::Op& op, const ir::Value* into, const ir::Value* index);

}  // namespace cocktail::passes
