//===- passes/Canonicalize.cpp -----------------------------------------------------===//
#include "passes/Canonicalize.h"

#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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

std::optional<bool> constantBool(const Value* v) {
  const Op* d = v->definingOp();
  if (!d || d->kind() != OpKind::Constant) return std::nullopt;
  return d->attrs().getBool("value");
}

bool isScalarOf(const Value* v, ir::DType dtype) { return v->type().isScalar() && v->type().dtype() == dtype; }

/// A scalar the op computes from constants and static sizes (an int or a
/// bool), or nothing: what overflows, divides by zero or reads a dynamic
/// size is left to run time, which reports it as ATen would.
std::optional<ir::AttrValue> foldScalar(const Op& op) {
  const ir::Type& t = op.numResults() == 1 ? op.result()->type() : ir::Type::unknownTensor();
  if (!t.isScalar()) return std::nullopt;
  if (op.kind() == OpKind::Size || op.kind() == OpKind::Rank || op.kind() == OpKind::Numel) {
    const ir::Type& x = op.operand(0)->type();
    if (!x.hasRank()) return std::nullopt;
    const auto rank = static_cast<int64_t>(x.rank());
    if (op.kind() == OpKind::Rank) return ir::AttrValue{rank};
    if (op.kind() == OpKind::Numel) {
      int64_t n = 1;
      for (const ir::Dim& d : x.dims())
        if (!d.isConstant() || __builtin_mul_overflow(n, d.value(), &n)) return std::nullopt;
      return ir::AttrValue{n};
    }
    std::optional<int64_t> dim = op.numOperands() > 1 ? constantInt(op.operand(1)) : op.attrs().getInt("dim");
    if (!dim || *dim < -rank || *dim >= rank) return std::nullopt;
    const ir::Dim& d = x.dims()[static_cast<size_t>(*dim < 0 ? *dim + rank : *dim)];
    if (!d.isConstant()) return std::nullopt;
    return ir::AttrValue{d.value()};
  }
  if (op.kind() == OpKind::Not) {
    auto a = constantBool(op.operand(0));
    return a ? std::optional<ir::AttrValue>(ir::AttrValue{!*a}) : std::nullopt;
  }
  if (op.numOperands() != 2) return std::nullopt;
  if (op.kind() == OpKind::And || op.kind() == OpKind::Or) {
    auto a = constantBool(op.operand(0)), b = constantBool(op.operand(1));
    if (!a || !b) return std::nullopt;
    return ir::AttrValue{op.kind() == OpKind::And ? (*a && *b) : (*a || *b)};
  }
  if (!isScalarOf(op.operand(0), ir::DType::I64) || !isScalarOf(op.operand(1), ir::DType::I64)) return std::nullopt;
  auto a = constantInt(op.operand(0)), b = constantInt(op.operand(1));
  if (!a || !b) return std::nullopt;
  int64_t r = 0;
  switch (op.kind()) {
    case OpKind::Add:
      if (__builtin_add_overflow(*a, *b, &r)) return std::nullopt;
      return ir::AttrValue{r};
    case OpKind::Sub:
      if (__builtin_sub_overflow(*a, *b, &r)) return std::nullopt;
      return ir::AttrValue{r};
    case OpKind::Mul:
      if (__builtin_mul_overflow(*a, *b, &r)) return std::nullopt;
      return ir::AttrValue{r};
    case OpKind::Eq: return ir::AttrValue{*a == *b};
    case OpKind::Ne: return ir::AttrValue{*a != *b};
    case OpKind::Lt: return ir::AttrValue{*a < *b};
    case OpKind::Le: return ir::AttrValue{*a <= *b};
    case OpKind::Gt: return ir::AttrValue{*a > *b};
    case OpKind::Ge: return ir::AttrValue{*a >= *b};
    default: return std::nullopt;
  }
}

/// Whether `ifOp`'s branch for `condition` ends by yielding one value per
/// result (the verifier's rule; a malformed if is left for it to report).
bool canInline(const Op& ifOp, bool condition) {
  if (ifOp.numRegions() != 2) return false;
  const Op* yield = ifOp.region(condition ? 0 : 1).terminator();
  return yield && yield->kind() == OpKind::Yield && yield->numOperands() == ifOp.numResults();
}

/// Replaces `ifOp` by the ops of the region its constant condition takes;
/// its results become what that region yields.
void inlineTakenBranch(ir::Region& body, Op* ifOp, bool condition) {
  ir::Region& parent = *ifOp->parentRegion();
  ir::Region& taken = ifOp->region(condition ? 0 : 1);
  size_t at = parent.indexOf(ifOp);
  const std::vector<Value*> yielded = taken.terminator()->operands();
  while (taken.size() > 1) parent.insert(at++, taken.take(0));
  for (size_t i = 0; i < ifOp->numResults(); ++i) ir::replaceAllUsesIn(body, ifOp->result(i), yielded[i]);
  parent.take(parent.indexOf(ifOp));
}

class Canonicalize final : public Pass {
 public:
  std::string_view name() const override { return "canonicalize"; }
  std::string_view description() const override {
    return "replace full slices, full slice_scatters and same-type copy_into by their input; fold scalar "
           "arithmetic on constants and static sizes, and ifs on a constant condition";
  }
  ir::Status run(ir::Program& program) override {
    program_ = &program;
    ir::walk(program.body(), [&](Op& op) {
      if (Value* same = inputItComputes(op)) ir::replaceAllUsesIn(program.body(), op.result(), same);
    });
    // Constants, then the branches they decide, until nothing changes: a
    // size check on static sizes (narrow's, glu's) folds away with its raise.
    for (int round = 0; round < kMaxRounds && foldConstantsAndBranches(program.body()); ++round) {
    }
    return ir::Status::success();
  }

 private:
  static constexpr int kMaxRounds = 16;

  /// One round; whether anything folded. Ops are collected first and changed
  /// after the walk (inserting into a region invalidates the walk), the
  /// branches innermost first (an outer one may discard an inner one).
  bool foldConstantsAndBranches(ir::Region& body) {
    std::vector<std::pair<Op*, ir::AttrValue>> scalars;
    std::vector<std::pair<Op*, bool>> branches;
    // Only ops something still reads: a folded op stays until dce, unread.
    std::unordered_set<const Value*> read;
    ir::walk(body, [&](Op& op) { read.insert(op.operands().begin(), op.operands().end()); });
    ir::walk(body, [&](Op& op) {
      if (op.kind() == OpKind::Constant || op.numResults() != 1 || !read.count(op.result())) return;
      if (auto v = foldScalar(op)) scalars.emplace_back(&op, *v);
    });
    // One walk rewrites every use (a walk per folded op would be quadratic).
    std::unordered_map<const Value*, Value*> folded;
    for (auto& [op, value] : scalars) {
      ir::Attributes a;
      a.set("value", value);
      auto constant = std::make_unique<Op>(OpKind::Constant, std::vector<Value*>{},
                                           std::vector<ir::Type>{op->result()->type()}, std::move(a), op->loc());
      ir::Region& region = *op->parentRegion();
      folded[op->result()] = region.insert(region.indexOf(op), std::move(constant))->result();
    }
    if (!folded.empty())
      ir::walk(body, [&](Op& op) {
        for (size_t i = 0; i < op.numOperands(); ++i)
          if (auto it = folded.find(op.operand(i)); it != folded.end()) op.setOperand(i, it->second);
      });
    ir::walk(body, [&](Op& op) {
      if (op.kind() != OpKind::If) return;
      if (auto cond = constantBool(op.operand(0)); cond && canInline(op, *cond)) branches.emplace_back(&op, *cond);
    });
    for (auto it = branches.rbegin(); it != branches.rend(); ++it) inlineTakenBranch(body, it->first, it->second);
    return !scalars.empty() || !branches.empty();
  }

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
