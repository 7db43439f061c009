//===- passes/LoopForm.cpp ---------------------------------------------------------===//
#include "passes/LoopForm.h"

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;
using ir::Value;

std::optional<int64_t> constantIntOf(const Value* v) {
  const Op* d = v->definingOp();
  if (!d || d->kind() != OpKind::Constant) return std::nullopt;
  return d->attrs().getInt("value");
}

bool isConstantTrue(const Value* v) {
  const Op* d = v->definingOp();
  return d && d->kind() == OpKind::Constant && d->attrs().getBool("value") == true;
}

bool runsEveryTrip(const Op& loop) {
  if (loop.kind() != OpKind::Loop || loop.numOperands() < 2 || !isConstantTrue(loop.operand(1))) return false;
  const Op* yield = loop.region(0).terminator();
  return yield && yield->numOperands() > 0 && isConstantTrue(yield->operand(0));
}

std::optional<ir::Dim> tripCountDim(const Op& loop) {
  if (!runsEveryTrip(loop)) return std::nullopt;
  const Value* count = loop.operand(0);
  if (auto n = constantIntOf(count)) return ir::Dim::constant(*n);
  const Op* size = count->definingOp();
  if (!size || size->kind() != OpKind::Size || size->numOperands() != 2) return std::nullopt;
  const ir::Type& t = size->operand(0)->type();
  if (!t.isTensor() || !t.hasRank() || t.rank() == 0 || constantIntOf(size->operand(1)) != 0) return std::nullopt;
  return t.dims().front();
}

bool isSelectRow(const Op& op, const Value* x, const Value* index) {
  return op.kind() == OpKind::Select && op.numOperands() == 2 && (!x || op.operand(0) == x) &&
         op.operand(1) == index && op.attrs().getInt("dim").value_or(0) == 0;
}

bool isScatterRow(const Op& op, const Value* into, const Value* index) {
  return op.kind() == OpKind::SelectScatter && op.numOperands() == 3 && op.operand(0) == into &&
         op.operand(2) == index && op.attrs().getInt("dim").value_or(0) == 0;
}

}  // namespace cocktail::passes
