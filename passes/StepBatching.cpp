//===- passes/StepBatching.cpp ---------------------------------------------------===//
#include "passes/StepBatching.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "ir/Schedule.h"
#include "passes/LoopForm.h"

namespace cocktail::passes {

using ir::Dim;
using ir::Op;
using ir::OpClass;
using ir::OpKind;
using ir::Region;
using ir::Type;
using ir::Value;

namespace {

Type withLeadingDim(const Dim& rows, const Type& row) {
  std::vector<Dim> dims{rows};
  dims.insert(dims.end(), row.dims().begin(), row.dims().end());
  return Type::tensor(row.dtype(), std::move(dims));
}

bool isRankedTensor(const Type& t) { return t.isTensor() && t.hasRank() && t.hasDType(); }

bool allStatic(const Type& t) {
  return std::all_of(t.dims().begin(), t.dims().end(), [](const Dim& d) { return d.isConstant(); });
}

/// `invariant` broadcasts over a row of type `row` as the types prove, so
/// that it broadcasts the same way over all rows: no more dims than a row
/// (the rows' dim goes in front) and, aligned from the right, each of its
/// dims 1 or the row's own dim.
bool broadcastsOverRow(const Type& invariant, const Type& row) {
  if (invariant.isScalar()) return true;
  if (!isRankedTensor(invariant) || invariant.rank() > row.rank()) return false;
  const auto& inv = invariant.dims();
  const auto& r = row.dims();
  for (size_t i = 1; i <= inv.size(); ++i) {
    const Dim& d = inv[inv.size() - i];
    if (!(d == Dim::constant(1) || d == r[r.size() - i])) return false;
  }
  return true;
}

/// A per-step value that is row `index` of `all`, a value before the loop.
struct Row {
  Value* all;
  Value* index;
};
using RowMap = std::unordered_map<const Value*, Row>;

class StepBatching final : public Pass {
 public:
  std::string_view name() const override { return "batch-steps"; }
  std::string_view description() const override {
    return "compute a for loop's per-step work that does not depend on the carried state for all steps at once, "
           "before the loop";
  }
  ir::Status run(ir::Program& program) override {
    program_ = &program;
    batchIn(program.body());
    return ir::Status::success();
  }

 private:
  void batchIn(Region& region) {
    for (size_t i = 0; i < region.ops().size(); ++i) {
      Op* op = region.ops()[i].get();
      if (op->kind() == OpKind::Fused) continue;
      // Inner loops first: rows they batch may then be rows of this one.
      for (const auto& r : op->regions()) batchIn(*r);
      if (op->kind() == OpKind::Loop) i += batchLoop(*op);
    }
  }

  /// Batches what it can of `loop`; returns how many ops it put before it.
  size_t batchLoop(Op& loop) {
    const std::optional<Dim> rows = tripCountDim(loop);
    if (!rows) return 0;
    Region& parent = *loop.parentRegion();
    Region& body = loop.region(0);
    const Value* step = body.argument(0);
    RowMap rowOf;
    size_t added = 0;
    for (size_t i = 0; i < body.ops().size(); ++i) {
      Op& op = *body.ops()[i];
      if (Value* all = selectedRows(op, loop, step, *rows)) {
        rowOf[op.result()] = Row{all, op.operand(1)};
        continue;
      }
      Value* rowIndex = batchable(op, loop, rowOf);
      if (!rowIndex) continue;
      const Type batchedType = withLeadingDim(*rows, op.result()->type());
      const auto bytes = ir::boundBytes(batchedType, *program_);
      if (!bytes || *bytes > kMaxBatchedBytes) continue;

      // The op over every row, just before the loop ...
      std::vector<Value*> operands;
      for (Value* v : op.operands()) {
        auto it = rowOf.find(v);
        operands.push_back(it == rowOf.end() ? v : it->second.all);
      }
      if (op.kind() == OpKind::Matmul)
        for (int64_t k = matmulRowPadding(op); k > 0; --k) operands[0] = unsqueezeRows(parent, loop, operands[0]);
      Op* batched = createBefore(parent, loop, op.kind(), std::move(operands), batchedType, op.attrs(), op.loc());
      ir::setBatchedFrom(*batched, describe(loop));
      ++added;
      // ... and in the loop, its row: the one its per-step operands read.
      auto select = std::make_unique<Op>(OpKind::Select, std::vector<Value*>{batched->result(), rowIndex},
                                         std::vector<Type>{op.result()->type()}, selectAttrs(), op.loc());
      Value* row = select->result();
      row->setName(std::string(op.result()->name()));
      body.insert(i, std::move(select));
      ir::replaceAllUsesIn(body, op.result(), row);
      body.take(i + 1);
      rowOf[row] = Row{batched->result(), rowIndex};
    }
    return added;
  }

  /// Whether `index` is the step or counts down from a loop-invariant
  /// (`T - 1 - t`, a backward RNN): one row per step, every row once.
  static bool stepIndex(const Value* index, const Op& loop, const Value* step) {
    if (index == step) return true;
    const Op* sub = index->definingOp();
    return sub && sub->kind() == OpKind::Sub && sub->operand(1) == step && !ir::isDefinedInside(sub->operand(0), &loop);
  }

  /// For `select(X, i)` on dim 0 of a loop-invariant X with one row per
  /// step, i a step index: X; otherwise null.
  static Value* selectedRows(const Op& op, const Op& loop, const Value* step, const Dim& rows) {
    if (op.kind() != OpKind::Select || !isSelectRow(op, nullptr, op.operand(1)) || !stepIndex(op.operand(1), loop, step))
      return nullptr;
    Value* x = op.operand(0);
    if (ir::isDefinedInside(x, &loop) || !isRankedTensor(x->type()) || x->type().rank() == 0) return nullptr;
    if (x->type().dims().front() != rows) return nullptr;
    return x;
  }

  /// Whether `op` computes a row from rows of the same index and
  /// loop-invariant values only, so that it can be batched: that index;
  /// otherwise null.
  static Value* batchable(const Op& op, const Op& loop, const RowMap& rowOf) {
    if (op.numResults() != 1 || op.numRegions() != 0) return nullptr;
    const Type& result = op.result()->type();
    // Floating results only: integer division by zero is the one failure
    // an elementwise op has, and the batched op must not fail where the
    // per-step one could not (a loop that runs zero times).
    if (!isRankedTensor(result) || !ir::isFloating(result.dtype())) return nullptr;
    // Rows of one index: row t of one value with row T-1-t of another is
    // no row of anything batched.
    Value* index = nullptr;
    for (const Value* v : op.operands()) {
      auto it = rowOf.find(v);
      if (it == rowOf.end()) continue;
      if (index && it->second.index != index) return nullptr;
      index = it->second.index;
    }
    if (!index) return nullptr;
    return rowFormula(op, loop, rowOf) ? index : nullptr;
  }

  /// The op's formula applies row by row, as the types prove.
  static bool rowFormula(const Op& op, const Op& loop, const RowMap& rowOf) {
    const Type& result = op.result()->type();
    auto perStep = [&](const Value* v) { return rowOf.count(v) != 0; };
    auto invariant = [&](const Value* v) { return !ir::isDefinedInside(v, &loop); };
    const auto& in = op.operands();
    switch (op.kind()) {
      case OpKind::Linear: {
        // linear(x[t], W, b): the weights invariant and their shapes static,
        // so that the product's contraction was proven by the types.
        if (!perStep(in[0])) return false;
        for (size_t k = 1; k < in.size(); ++k)
          if (!invariant(in[k]) || !isRankedTensor(in[k]->type()) || !allStatic(in[k]->type())) return false;
        const Type& x = in[0]->type();
        return x.rank() >= 1 && x.dims().back().isConstant();
      }
      case OpKind::Matmul: {
        // x[t] @ W: the rows' dim becomes one more batch dim of the product,
        // in front of W's batch dims (matmulRowPadding). A vector row under
        // a stack of matrices, or W @ x[t], would put it elsewhere: stay.
        const Type &x = in[0]->type(), &w = in[1]->type();
        if (!perStep(in[0]) || !invariant(in[1]) || !isRankedTensor(w) || !allStatic(w) || w.rank() < 1) return false;
        if (x.rank() < 1 || !x.dims().back().isConstant()) return false;
        if (w.rank() <= 2) return true;
        // The row's batch dims that meet W's must be static, so that the
        // batched product broadcasts whenever the per-step one did.
        if (x.rank() < 2) return false;
        const int64_t meet = std::min(x.rank() - 2, w.rank() - 2);
        for (int64_t k = 0; k < meet; ++k)
          if (!x.dims()[static_cast<size_t>(x.rank() - 3 - k)].isConstant()) return false;
        return true;
      }
      default:
        break;
    }
    const OpClass c = op.info().opClass;
    if (c != OpClass::Unary && c != OpClass::Binary) return false;
    for (const Value* v : in) {
      if (perStep(v)) {
        if (v->type() != result) return false;  // a row broadcast against another: the types must say it is not
      } else if (!invariant(v) || !broadcastsOverRow(v->type(), result)) {
        return false;
      }
    }
    return true;
  }

  static Op* createBefore(Region& parent, const Op& loop, OpKind kind, std::vector<Value*> operands, const Type& type,
                          const ir::Attributes& attrs, const ir::Location& loc) {
    auto op = std::make_unique<Op>(kind, std::move(operands), std::vector<Type>{type}, attrs, loc);
    return parent.insert(parent.indexOf(&loop), std::move(op));
  }

  /// Unit dims the batched left operand of `x[t] @ W` needs after its
  /// rows' dim, so that W's batch dims meet the row's and not the rows':
  /// [T, B, K] @ [8, K, N] is [T, 1, B, K] @ [8, K, N] = [T, 8, B, N].
  static int64_t matmulRowPadding(const Op& matmul) {
    const int64_t row = matmul.operand(0)->type().rank(), w = matmul.operand(1)->type().rank();
    return std::max<int64_t>(0, w - row);
  }

  static Value* unsqueezeRows(Region& parent, const Op& loop, Value* rows) {
    std::vector<Dim> dims = rows->type().dims();
    dims.insert(dims.begin() + 1, Dim::constant(1));
    ir::Attributes a;
    a.set("dim", int64_t{1});
    return createBefore(parent, loop, OpKind::Unsqueeze, {rows}, Type::tensor(rows->type().dtype(), std::move(dims)),
                        a, loop.loc())
        ->result();
  }

  static ir::Attributes selectAttrs() {
    ir::Attributes a;
    a.set("dim", int64_t{0});
    return a;
  }

  /// The loop by file name and line: enough to find it, and the same on
  /// every machine (the artifact and --emit output do not name the
  /// exporter's folders twice).
  static std::string describe(const Op& loop) {
    if (!loop.loc().known()) return "the steps of a loop";
    return fmt::format("the steps of the loop at {}:{}", std::filesystem::path(loop.loc().file).filename().string(),
                       loop.loc().line);
  }

  const ir::Program* program_ = nullptr;
};

}  // namespace

std::unique_ptr<Pass> createStepBatchingPass() { return std::make_unique<StepBatching>(); }

}  // namespace cocktail::passes
