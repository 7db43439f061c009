//===- passes/LoopInvariantCodeMotion.cpp ---------------------------------------------===//
#include "passes/LoopInvariantCodeMotion.h"

#include <algorithm>

namespace cocktail::passes {

using ir::Op;
using ir::OpClass;
using ir::OpKind;
using ir::Region;
using ir::Value;

namespace {

/// A division that can fail: by an integer zero, or by any zero in
/// TorchScript's scalar math (Python raises ZeroDivisionError for floats too).
bool mayDivideByZero(const Op& op) {
  if (op.kind() != OpKind::Div && op.kind() != OpKind::FloorDiv && op.kind() != OpKind::Remainder) return false;
  return std::any_of(op.operands().begin(), op.operands().end(), [](const Value* v) {
    return !v->type().isTensor() || !v->type().hasDType() || !ir::isFloating(v->type().dtype());
  });
}

/// All dims constant: the verifier's shape checks are then the run's.
bool staticShape(const ir::Type& t) {
  if (!t.isTensor()) return true;
  if (!t.hasRank()) return false;
  return std::all_of(t.dims().begin(), t.dims().end(), [](const ir::Dim& d) { return d.isConstant(); });
}

/// Ops that give a value or a static type error, never a run-time failure.
bool cannotFail(const Op& op) {
  switch (op.kind()) {
    case OpKind::Constant:
    case OpKind::Weight:
    case OpKind::Size:
    case OpKind::Rank:
    case OpKind::Numel:
    case OpKind::Transpose:
    case OpKind::Permute:
    case OpKind::Unsqueeze:
    case OpKind::Squeeze:
    case OpKind::Matmul:
    case OpKind::Linear:
    case OpKind::Where:
    case OpKind::Cast:
    case OpKind::Fused:
      return true;
    default:
      break;
  }
  const OpClass c = op.info().opClass;
  return (c == OpClass::Unary || c == OpClass::Binary) && !mayDivideByZero(op);
}

bool invariant(const Op& op, const Op& loop) {
  if (op.info().opClass == OpClass::Terminator || op.numResults() == 0) return false;
  if (op.kind() != OpKind::Fused && op.numRegions()) return false;
  if (!cannotFail(op)) return false;
  // With a dynamic dim, shapes that the types allow could still mismatch
  // when it runs; size queries only read a dim.
  const bool shapeOnly = op.kind() == OpKind::Size || op.kind() == OpKind::Rank || op.kind() == OpKind::Numel;
  for (const Value* v : op.operands()) {
    if (ir::isDefinedInside(v, &loop)) return false;
    if (!shapeOnly && !staticShape(v->type())) return false;
  }
  return true;
}

class LoopInvariantCodeMotion final : public Pass {
 public:
  std::string_view name() const override { return "licm"; }
  std::string_view description() const override {
    return "move ops a loop body recomputes alike in every iteration before the loop";
  }
  ir::Status run(ir::Program& program) override {
    hoistIn(program.body());
    return ir::Status::success();
  }

 private:
  void hoistIn(Region& region) {
    for (size_t i = 0; i < region.ops().size(); ++i) {
      Op* op = region.ops()[i].get();
      if (op->kind() == OpKind::Fused) continue;
      // Inner loops first: what leaves them may then leave this one too.
      for (const auto& r : op->regions()) hoistIn(*r);
      if (op->kind() == OpKind::Loop) i += hoist(*op);
    }
  }

  /// Moves the invariant ops of `loop` before it; returns how many moved.
  size_t hoist(Op& loop) {
    Region& parent = *loop.parentRegion();
    Region& body = loop.region(0);
    size_t moved = 0;
    for (size_t i = 0; i < body.ops().size();) {
      if (!invariant(*body.ops()[i], loop)) {
        ++i;
        continue;
      }
      parent.insert(parent.indexOf(&loop), body.take(i));
      ++moved;
    }
    return moved;
  }
};

}  // namespace

std::unique_ptr<Pass> createLoopInvariantCodeMotionPass() { return std::make_unique<LoopInvariantCodeMotion>(); }

}  // namespace cocktail::passes
