//===- passes/CostModel.h - Static work estimates of ops and regions ----------------===//
//
// Bytes moved and flops of each op, from its static types: a symbolic dim
// counts at its bound (the worst case the schedule must fit). A `?` dim, or
// a nested loop whose trip count only the run knows, counts as 1, and the
// estimate says it is then only a lower bound.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>

#include "ir/Program.h"
#include "passes/TargetModel.h"

namespace cocktail::passes {

struct Work {
  double bytes = 0;
  double flops = 0;
  bool lowerBound = false;  // a `?` dim or a run-time trip count was counted as 1
  Work& operator+=(const Work& o) {
    bytes += o.bytes;
    flops += o.flops;
    lowerBound |= o.lowerBound;
    return *this;
  }
  /// Microseconds on `t`: bound by memory or by arithmetic.
  double micros(const TargetModel& t) const;
};

/// A dim's size at its bound: its value, or its symbol's bound; nullopt for `?`.
std::optional<int64_t> dimBound(const ir::Dim& d, const ir::Program& program);

/// Elements of a value at its bounds (1 for a scalar; a `?` dim counts as 1).
int64_t boundElements(const ir::Value& v, const ir::Program& program);

/// True when a dim of the value has no bound (`?`), or it has no rank.
bool hasUnboundedDims(const ir::Value& v, const ir::Program& program);

/// True for a view that moves no data where its operand is dense: an offset
/// and a shape over operand 0's memory, no kernel (ir::isView, less the
/// views that stride, ir::kStrides: on a target that does not read strided
/// views in place those are copies).
bool isView(const ir::Op& op);

/// True for an op that is a uOperator: it does tensor work a kernel runs
/// (not a constant, a scalar op, a view-like size query or a terminator).
bool isUOperator(const ir::Op& op);

/// Work of one op (not of its regions).
Work opWork(const ir::Op& op, const ir::Program& program);

/// The trip count of a loop when the types fix it (a constant, or the size
/// of a static dim); nullopt when it depends on run-time values.
std::optional<int64_t> staticTripCount(const ir::Op& loop);

/// Work of one pass over a region's ops, nested loops counted at their trip
/// bound where it is static (else once, and the result is a lower bound),
/// ifs at their costlier branch.
Work regionWork(const ir::Region& region, const ir::Program& program);

/// Number of uOperators one pass over the region starts.
int countUOperators(const ir::Region& region);

}  // namespace cocktail::passes
