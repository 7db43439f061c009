//===- frontend/SortLowering.cpp - sort as ranks counted by comparison ---------------===//
//
// `torch.sort(x, dim, descending)` without a sort op in the IR: an element's
// place is the number of elements that go before it (smaller, or larger when
// descending; equal ones before it in the input), counted from an [n, n]
// comparison along the sorted dim; the indices are scattered to their places
// and the values gathered. Equal elements keep their input order (a stable
// sort; PyTorch leaves their order unspecified without stable=True); NaN goes
// last ascending and first descending, as in PyTorch. The comparison costs
// n^2 per sorted row: meant for short rows (pack_padded_sequence's
// `enforce_sorted=False` sorts the batch's lengths), and the memory plan
// refuses a sort whose rows make it too big.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

Type tensorT() { return Type::unknownTensor(); }

class SortEmitter {
 public:
  explicit SortEmitter(ir::Builder& b) : b_(b) {}
  ir::Value* op(OpKind k, std::vector<ir::Value*> ops, Attributes a = {}) {
    return b_.create1(k, std::move(ops), tensorT(), std::move(a));
  }
  ir::Value* unsqueeze(ir::Value* x, int64_t dim) { return op(OpKind::Unsqueeze, {x}, attrs({{"dim", dim}})); }
  ir::Value* both(ir::Value* a, ir::Value* b) { return op(OpKind::And, {a, b}); }
  ir::Value* either(ir::Value* a, ir::Value* b) { return op(OpKind::Or, {a, b}); }
  ir::Value* isNan(ir::Value* x) { return op(OpKind::Ne, {x, x}); }
  ir::Value* isNumber(ir::Value* x) { return op(OpKind::Eq, {x, x}); }
  /// a < b with NaN the largest.
  ir::Value* less(ir::Value* a, ir::Value* b) { return either(op(OpKind::Lt, {a, b}), both(isNumber(a), isNan(b))); }
  ir::Value* same(ir::Value* a, ir::Value* b) { return either(op(OpKind::Eq, {a, b}), both(isNan(a), isNan(b))); }

 private:
  ir::Builder& b_;
};

/// sort(self, dim=-1, descending=False) | sort.stable(self, *, stable, dim=-1, descending=False) -> (values, indices)
void lowerSort(Lowering& L) {
  const std::string overload = L.overload();
  if (!overload.empty() && overload != "stable")
    throw NotLowered{fmt::format("overload sort.{} is not supported", overload)};
  const size_t at = overload == "stable" ? 2 : 1;
  const int64_t dim = L.cint(at, "dim");
  const bool descending = L.cbool(at + 1, "descending flag");
  ir::Builder& b = L.b();
  SortEmitter e(b);
  const Attributes toLast = attrs({{"dim0", dim}, {"dim1", int64_t{-1}}});
  // Sorted along the last dim: x [..., n]; element i at dim -2, j at dim -1.
  ir::Value* x = e.op(OpKind::Transpose, {L.in(0)}, toLast);
  ir::Value* n = b.create1(OpKind::Size, {x, b.constantInt(-1)}, Type::scalar(DType::I64));
  ir::Value* iota = e.op(OpKind::Arange, {b.constantInt(0), n, b.constantInt(1)}, attrs({{"dtype", DType::I64}}));
  ir::Value* xi = e.unsqueeze(x, -1);
  ir::Value* xj = e.unsqueeze(x, -2);
  ir::Value* jFirst = descending ? e.less(xi, xj) : e.less(xj, xi);
  ir::Value* jEarlier = e.op(OpKind::Lt, {e.unsqueeze(iota, 0), e.unsqueeze(iota, 1)});  // [n(i), n(j)]: j < i
  ir::Value* before = e.either(jFirst, e.both(e.same(xi, xj), jEarlier));
  ir::Value* place = e.op(OpKind::Sum, {e.op(OpKind::Cast, {before}, attrs({{"dtype", DType::I64}}))},
                          attrs({{"dims", std::vector<int64_t>{-1}}, {"keepdim", false}}));
  ir::Value* positions = e.op(OpKind::ExpandAs, {iota, x});
  ir::Value* indices = e.op(OpKind::Scatter, {positions, place, positions}, attrs({{"dim", int64_t{-1}}}));
  ir::Value* values = e.op(OpKind::Gather, {x, indices}, attrs({{"dim", int64_t{-1}}}));
  L.out(e.op(OpKind::Transpose, {values}, toLast), 0);
  L.out(e.op(OpKind::Transpose, {indices}, toLast), 1);
}

}  // namespace

void addSortLowerings(std::unordered_map<std::string, LowerFn>& table) { table.emplace("aten::sort", lowerSort); }

}  // namespace cocktail::frontend::lowering
