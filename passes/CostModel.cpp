//===- passes/CostModel.cpp ---------------------------------------------------------===//
#include "passes/CostModel.h"

#include <algorithm>

namespace cocktail::passes {

using ir::OpClass;
using ir::OpKind;

double Work::micros(const TargetModel& t) const { return std::max(bytes / t.bytesPerUs, flops / t.flopsPerUs); }

std::optional<int64_t> dimBound(const ir::Dim& d, const ir::Program& program) {
  if (d.isConstant()) return d.value();
  if (d.isSymbol())
    if (const ir::Symbol* s = program.findSymbol(d.symbolName())) return s->bound;
  return std::nullopt;
}

int64_t boundElements(const ir::Value& v, const ir::Program& program) {
  const ir::Type& t = v.type();
  if (!t.isTensor() || !t.hasRank()) return 1;
  int64_t n = 1;
  for (const ir::Dim& d : t.dims()) n *= dimBound(d, program).value_or(1);
  return n;
}

bool hasUnboundedDims(const ir::Value& v, const ir::Program& program) {
  const ir::Type& t = v.type();
  if (!t.isTensor()) return false;
  if (!t.hasRank()) return true;
  for (const ir::Dim& d : t.dims())
    if (!dimBound(d, program)) return true;
  return false;
}

bool isView(const ir::Op& op) { return ir::isView(op.kind()) && !ir::hasTrait(op.kind(), ir::kStrides); }

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
  for (const ir::Value* v : op.operands()) {
    w.bytes += bytesOf(*v, program);
    w.lowerBound |= hasUnboundedDims(*v, program);
  }
  for (const auto& r : op.results()) {
    w.bytes += bytesOf(*r, program);
    w.lowerBound |= hasUnboundedDims(*r, program);
  }
  const double out = static_cast<double>(boundElements(*op.result(), program));
  // A contracted dim at its bound; the operands' `?` dims already mark the estimate.
  auto bound = [&](const ir::Dim& d) { return static_cast<double>(dimBound(d, program).value_or(1)); };
  switch (op.kind()) {
    case OpKind::Linear:
    case OpKind::Matmul:
    case OpKind::Addmm: {
      // 2 * output elements * the contracted dim (the last dim of the first operand).
      const ir::Type& a = op.operand(op.kind() == OpKind::Addmm ? 1 : 0)->type();
      const double k = a.hasRank() && a.rank() > 0 ? bound(a.dims().back()) : 1;
      w.flops = 2 * out * k;
      break;
    }
    case OpKind::Conv2d: {
      const ir::Type& wt = op.operand(1)->type();
      double perOut = 1;
      if (wt.hasRank() && wt.rank() == 4)
        for (size_t i = 1; i < 4; ++i) perOut *= bound(wt.dims()[i]);
      w.flops = 2 * out * perOut;
      break;
    }
    case OpKind::ConvTranspose2d: {
      // Every input element times every tap of its group's output channels.
      const ir::Type &x = op.operand(0)->type(), &wt = op.operand(1)->type();
      double taps = 1;
      if (wt.hasRank() && wt.rank() == 4)
        for (size_t i = 1; i < 4; ++i) taps *= bound(wt.dims()[i]);
      double in = 1;
      if (x.hasRank())
        for (const ir::Dim& d : x.dims()) in *= bound(d);
      w.flops = 2 * in * taps;
      break;
    }
    case OpKind::Fused:
      // A head's contraction, then one flop per element per epilogue op
      // (the body's size counts the head and the yield too).
      if (const ir::Op* head = ir::fusedHead(op)) {
        const Work h = opWork(*head, program);
        w.flops = h.flops + out * static_cast<double>(op.region(0).size() - 2);
        w.lowerBound |= h.lowerBound;
      } else {
        w.flops = out * static_cast<double>(op.region(0).size());
      }
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
      const std::optional<int64_t> trips = staticTripCount(op);
      total.bytes += body.bytes * static_cast<double>(trips.value_or(1));
      total.flops += body.flops * static_cast<double>(trips.value_or(1));
      total.lowerBound |= body.lowerBound || !trips;
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
