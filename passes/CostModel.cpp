//===- passes/CostModel.cpp ---------------------------------------------------------===//
#include "passes/CostModel.h"

#include <algorithm>

namespace cocktail::passes {

using ir::OpClass;
using ir::OpKind;

double Work::micros(const TargetModel& t) const { return std::max(bytes / t.bytesPerUs, flops / t.flopsPerUs); }

int64_t boundElements(const ir::Value& v, const ir::Program& program) {
  const ir::Type& t = v.type();
  if (!t.isTensor()) return 1;
  if (!t.hasRank()) return 1;
  int64_t n = 1;
  for (const ir::Dim& d : t.dims()) {
    if (d.isConstant()) n *= d.value();
    else if (d.isSymbol()) {
      const ir::Symbol* s = program.findSymbol(d.symbolName());
      n *= s ? s->bound : 1;
    }
  }
  return n;
}

bool isView(const ir::Op& op) {
  switch (op.kind()) {
    case OpKind::Select:
    case OpKind::Slice:
    case OpKind::Reshape:
    case OpKind::ReshapeAs:
    case OpKind::Squeeze:
    case OpKind::Unsqueeze:
    case OpKind::Flatten:
    case OpKind::Chunk:
    case OpKind::Split:
      return true;
    default:
      return false;
  }
}

bool isUOperator(const ir::Op& op) {
  if (isView(op)) return false;
  switch (op.info().opClass) {
    case OpClass::Structure:
      return op.kind() == OpKind::Fused;
    case OpClass::Terminator:
    case OpClass::Scalar:
      return false;
    default:
      break;
  }
  return op.numResults() > 0 && op.result()->type().isTensor();
}

namespace {
double bytesOf(const ir::Value& v, const ir::Program& p) {
  const ir::Type& t = v.type();
  const int64_t size = t.hasDType() ? ir::dtypeSize(t.dtype()) : 4;
  return static_cast<double>(boundElements(v, p) * size);
}
}  // namespace

Work opWork(const ir::Op& op, const ir::Program& program) {
  Work w;
  if (!isUOperator(op)) return w;
  for (const ir::Value* v : op.operands()) w.bytes += bytesOf(*v, program);
  for (const auto& r : op.results()) w.bytes += bytesOf(*r, program);
  const double out = static_cast<double>(boundElements(*op.result(), program));
  switch (op.kind()) {
    case OpKind::Linear:
    case OpKind::Matmul:
    case OpKind::Addmm: {
      // 2 * output elements * the contracted dim (the last dim of the first operand).
      const ir::Type& a = op.operand(op.kind() == OpKind::Addmm ? 1 : 0)->type();
      double k = a.hasRank() && a.rank() > 0 && a.dims().back().isConstant() ? static_cast<double>(a.dims().back().value()) : 1;
      w.flops = 2 * out * k;
      break;
    }
    case OpKind::Conv2d: {
      const ir::Type& wt = op.operand(1)->type();
      double perOut = 1;
      if (wt.hasRank() && wt.rank() == 4)
        for (size_t i = 1; i < 4; ++i) perOut *= wt.dims()[i].isConstant() ? static_cast<double>(wt.dims()[i].value()) : 1;
      w.flops = 2 * out * perOut;
      break;
    }
    case OpKind::Fused:
      // A head's contraction, then one flop per element per epilogue op
      // (the body's size counts the head and the yield too).
      if (const ir::Op* head = ir::fusedHead(op))
        w.flops = opWork(*head, program).flops + out * static_cast<double>(op.region(0).size() - 2);
      else
        w.flops = out * static_cast<double>(op.region(0).size());
      break;
    default:
      w.flops = out;
  }
  return w;
}

std::optional<int64_t> staticTripCount(const ir::Op& loop) {
  const ir::Op* def = loop.operand(0)->definingOp();
  if (!def) return std::nullopt;
  if (def->kind() == OpKind::Constant) return def->attrs().getInt("value");
  // size(x, d) of a dim the types know: `for l in range(h.size(0))`.
  if (def->kind() == OpKind::Size && def->numOperands() >= 1) {
    const ir::Type& t = def->operand(0)->type();
    std::optional<int64_t> d = def->attrs().getInt("dim");
    if (def->numOperands() > 1)
      if (const ir::Op* c = def->operand(1)->definingOp(); c && c->kind() == OpKind::Constant) d = c->attrs().getInt("value");
    if (d && t.hasRank()) {
      const int64_t r = t.rank(), i = *d < 0 ? *d + r : *d;
      if (i >= 0 && i < r && t.dims()[static_cast<size_t>(i)].isConstant()) return t.dims()[static_cast<size_t>(i)].value();
    }
  }
  return std::nullopt;
}

Work regionWork(const ir::Region& region, const ir::Program& program) {
  Work total;
  for (const auto& opPtr : region.ops()) {
    const ir::Op& op = *opPtr;
    if (op.kind() == OpKind::Loop) {
      Work body = regionWork(op.region(0), program);
      const double trips = static_cast<double>(staticTripCount(op).value_or(1));
      total.bytes += body.bytes * trips;
      total.flops += body.flops * trips;
    } else if (op.kind() == OpKind::If) {
      Work a = regionWork(op.region(0), program), b = regionWork(op.region(1), program);
      total += (a.bytes + a.flops >= b.bytes + b.flops) ? a : b;
    } else {
      total += opWork(op, program);
    }
  }
  return total;
}

int countUOperators(const ir::Region& region) {
  int n = 0;
  for (const auto& op : region.ops()) {
    if (isUOperator(*op)) ++n;
    if (op->kind() != OpKind::Fused)
      for (const auto& r : op->regions()) n += countUOperators(*r);
  }
  return n;
}

}  // namespace cocktail::passes
