//===- passes/BranchSplit.cpp ------------------------------------------------------===//
#include "passes/BranchSplit.h"

#include <algorithm>

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;
using ir::Region;
using ir::Value;

namespace {

/// An op that may move out of a branch: no effects, no regions, and all its
/// operands from outside the if.
bool hoistable(const Op& op, const Op& ifOp) {
  if (op.info().opClass == ir::OpClass::Terminator || op.numRegions() || op.numResults() == 0) return false;
  if (op.kind() == OpKind::Raise || op.kind() == OpKind::Island) return false;
  return std::all_of(op.operands().begin(), op.operands().end(),
                     [&](const Value* v) { return !ir::isDefinedInside(v, &ifOp); });
}

bool sameComputation(const Op& a, const Op& b) {
  if (a.kind() != b.kind() || a.operands() != b.operands() || !(a.attrs() == b.attrs()) ||
      a.numResults() != b.numResults())
    return false;
  for (size_t i = 0; i < a.numResults(); ++i)
    if (!(a.result(i)->type() == b.result(i)->type())) return false;
  return true;
}

/// Ops from here on may not run in a branch that raises first.
size_t firstRaise(const Region& region) {
  const auto& ops = region.ops();
  return static_cast<size_t>(
      std::find_if(ops.begin(), ops.end(), [](const auto& p) { return p->kind() == OpKind::Raise; }) - ops.begin());
}

class BranchSplit final : public Pass {
 public:
  std::string_view name() const override { return "branch-split"; }
  std::string_view description() const override {
    return "compute once, before an if, what both of its branches compute alike";
  }
  ir::Status run(ir::Program& program) override {
    splitIn(program.body());
    return ir::Status::success();
  }

 private:
  void splitIn(Region& region) {
    // Indices shift as ops move out in front of an if: walk by position.
    for (size_t i = 0; i < region.ops().size(); ++i) {
      Op* op = region.ops()[i].get();
      for (const auto& r : op->regions()) splitIn(*r);
      if (op->kind() == OpKind::If) i += split(*op);
    }
  }

  /// Moves the shared ops of `ifOp` before it; returns how many moved.
  size_t split(Op& ifOp) {
    Region& parent = *ifOp.parentRegion();
    Region& thenR = ifOp.region(0);
    Region& elseR = ifOp.region(1);
    size_t moved = 0;
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t t = 0; t < firstRaise(thenR) && !changed; ++t) {
        Op& a = *thenR.ops()[t];
        if (!hoistable(a, ifOp)) continue;
        for (size_t e = 0; e < firstRaise(elseR); ++e) {
          Op& b = *elseR.ops()[e];
          if (!hoistable(b, ifOp) || !sameComputation(a, b)) continue;
          for (size_t k = 0; k < b.numResults(); ++k) ir::replaceAllUsesIn(elseR, b.result(k), a.result(k));
          elseR.take(e);
          parent.insert(parent.indexOf(&ifOp), thenR.take(t));
          ++moved;
          changed = true;
          break;
        }
      }
    }
    return moved;
  }
};

}  // namespace

std::unique_ptr<Pass> createBranchSplitPass() { return std::make_unique<BranchSplit>(); }

}  // namespace cocktail::passes
