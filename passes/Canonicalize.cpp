//===- passes/Canonicalize.cpp -----------------------------------------------------===//
#include "passes/Canonicalize.h"

#include <limits>
#include <optional>

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

std::optional<int64_t> constantInt(const Value* v) {
  const Op* d = v->definingOp();
  if (!d || d->kind() != OpKind::Constant) return std::nullopt;
  return d->attrs().getInt("value");
}

class Canonicalize final : public Pass {
 public:
  std::string_view name() const override { return "canonicalize"; }
  std::string_view description() const override {
    return "replace full slices, full slice_scatters and same-type copy_into by their input";
  }
  ir::Status run(ir::Program& program) override {
    program_ = &program;
    ir::walk(program.body(), [&](Op& op) {
      if (Value* same = inputItComputes(op)) ir::replaceAllUsesIn(program.body(), op.result(), same);
    });
    return ir::Status::success();
  }

 private:
  /// The operand `op`'s result equals, or null.
  Value* inputItComputes(const Op& op) const {
    switch (op.kind()) {
      case OpKind::Slice:
        return coversDim(op, op.operand(0), 1, 2) && op.operand(0)->type() == op.result()->type() ? op.operand(0)
                                                                                                   : nullptr;
      case OpKind::SliceScatter:
        return coversDim(op, op.operand(0), 2, 3) && op.operand(1)->type() == op.result()->type() ? op.operand(1)
                                                                                                   : nullptr;
      case OpKind::CopyInto:
        return op.operand(1)->type() == op.result()->type() ? op.operand(1) : nullptr;
      default:
        return nullptr;
    }
  }

  /// Whether operands `startAt` and `endAt` of `op` slice all of x's dim
  /// `op.dim` with step 1: start 0, and an end no size of that dim exceeds.
  bool coversDim(const Op& op, const Value* x, size_t startAt, size_t endAt) const {
    if (op.attrs().getInt("step").value_or(1) != 1) return false;
    auto start = constantInt(op.operand(startAt)), end = constantInt(op.operand(endAt));
    const ir::Type& t = x->type();
    if (!start || *start != 0 || !end || !t.hasRank()) return false;
    const int64_t rank = t.rank();
    int64_t dim = op.attrs().getInt("dim").value_or(0);
    if (dim < 0) dim += rank;
    if (dim < 0 || dim >= rank) return false;
    const ir::Dim& d = t.dims()[static_cast<size_t>(dim)];
    if (d.isConstant()) return *end >= d.value();
    if (d.isSymbol())
      if (const ir::Symbol* s = program_->findSymbol(d.symbolName())) return *end >= s->bound;
    return *end == std::numeric_limits<int64_t>::max();
  }

  const ir::Program* program_ = nullptr;
};

}  // namespace

std::unique_ptr<Pass> createCanonicalizePass() { return std::make_unique<Canonicalize>(); }

}  // namespace cocktail::passes
