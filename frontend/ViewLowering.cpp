//===- frontend/ViewLowering.cpp - Views, and writes through them -------------------===//
//
// A view op becomes an IR view of its base. A write through a chain of views
// (x[:, t] = v, x.select(0, i).copy_(y)) becomes a functional write of the
// base (select_scatter, slice_scatter, copy_into, ...): GraphTranslator
// replays the chain with emitView and folds the write back with emitScatter.
//
//===----------------------------------------------------------------------===//
#include <numeric>
#include <utility>

#include "frontend/Lowering.h"

namespace cocktail::frontend {

namespace lowering {

// ---- views --------------------------------------------------------------------------

namespace {

/// narrow(x, dim, start, length) as the slice [start, start + length): a
/// negative start counts from the end, and a start outside [-size, size] or
/// a length past the end raises as ATen does. (A plain slice clamps, which
/// turned an out-of-range narrow into a silently empty result.)
std::pair<ir::Value*, ir::Value*> narrowBounds(Lowering& L, ir::Value* base) {
  ir::Builder& b = L.b();
  const Type i64 = Type::scalar(DType::I64), i1 = Type::scalar(DType::I1);
  const int64_t dim = L.cint(1, "dim");
  ir::Value* start = L.in(2);
  ir::Value* length = L.in(3);
  ir::Value* size = b.create1(OpKind::Size, {base}, i64, attrs({{"dim", dim}}));
  ir::Value* zero = b.constantInt(0);
  ir::Op* wrap = b.create(OpKind::If, {b.create1(OpKind::Lt, {start, zero}, i1)}, {i64});
  {
    ir::Builder fromEnd(wrap->addRegion());
    fromEnd.setLoc(b.loc());
    fromEnd.create(OpKind::Yield, {fromEnd.create1(OpKind::Add, {start, size}, i64)}, {});
    ir::Builder(wrap->addRegion()).create(OpKind::Yield, {start}, {});
  }
  ir::Value* first = wrap->result();
  ir::Value* end = b.create1(OpKind::Add, {first, length}, i64);
  // first > size also catches a start near 2^63, where first + length wraps.
  ir::Value* outside =
      b.create1(OpKind::Or, {b.create1(OpKind::Lt, {first, zero}, i1), b.create1(OpKind::Gt, {first, size}, i1)}, i1);
  ir::Value* tooLong =
      b.create1(OpKind::Or, {b.create1(OpKind::Lt, {length, zero}, i1), b.create1(OpKind::Gt, {end, size}, i1)}, i1);
  emitRaiseIf(b, b.create1(OpKind::Or, {outside, tooLong}, i1),
              fmt::format("narrow(): start must be in [-size, size] of dimension {} and "
                          "start + length at most its size, with length >= 0",
                          dim));
  return {first, end};
}

}  // namespace

ir::Value* emitView(Lowering& L, ir::Value* base) {
  std::string name = L.node()->kind().toQualString();
  auto& b = L.b();
  Type t = Type::unknownTensor();
  if (name == "aten::select") return b.create1(OpKind::Select, {base, L.in(2)}, t, attrs({{"dim", L.cint(1, "dim")}}));
  if (name == "aten::slice") {
    ir::Value* start = L.isNone(2) ? b.constantInt(0) : L.in(2);
    ir::Value* end = L.isNone(3) ? b.constantInt(ir::Builder::kMaxTrip) : L.in(3);
    int64_t step = L.cint(4, "step");
    if (step <= 0) throw NotLowered{"slice step must be positive"};
    return b.create1(OpKind::Slice, {base, start, end}, t, attrs({{"dim", L.cint(1, "dim")}, {"step", step}}));
  }
  if (name == "aten::narrow") {
    auto [start, end] = narrowBounds(L, base);
    return b.create1(OpKind::Slice, {base, start, end}, t, attrs({{"dim", L.cint(1, "dim")}, {"step", int64_t{1}}}));
  }
  if (name == "aten::view" || name == "aten::reshape") {
    const Slot& s = L.slotOf(1);
    if (s.kind == Slot::Kind::SizeList) return b.create1(OpKind::ReshapeAs, {base, s.value}, t);
    std::vector<ir::Value*> operands = {base};
    for (ir::Value* v : L.listValues(1)) operands.push_back(v);
    return b.create1(OpKind::Reshape, operands, t);
  }
  if (name == "aten::view_as" || name == "aten::reshape_as") return b.create1(OpKind::ReshapeAs, {base, L.in(1)}, t);
  if (name == "aten::flatten")
    return b.create1(OpKind::Flatten, {base}, t, attrs({{"start", L.cint(1, "start_dim")}, {"end", L.cint(2, "end_dim")}}));
  if (name == "aten::unsqueeze") return b.create1(OpKind::Unsqueeze, {base}, t, attrs({{"dim", L.cint(1, "dim")}}));
  if (name == "aten::squeeze") {
    if (L.numInputs() == 1) return b.create1(OpKind::Squeeze, {base}, t);
    return b.create1(OpKind::Squeeze, {base}, t, attrs({{"dim", L.cint(1, "dim")}}));
  }
  if (name == "aten::transpose")
    return b.create1(OpKind::Transpose, {base}, t, attrs({{"dim0", L.cint(1, "dim0")}, {"dim1", L.cint(2, "dim1")}}));
  if (name == "aten::t") return b.create1(OpKind::Transpose, {base}, t, attrs({{"dim0", int64_t{0}}, {"dim1", int64_t{1}}}));
  if (name == "aten::permute") return b.create1(OpKind::Permute, {base}, t, attrs({{"dims", L.cints(1, "dims")}}));
  if (name == "aten::expand") {
    const Slot& s = L.slotOf(1);
    if (s.kind == Slot::Kind::SizeList) return b.create1(OpKind::ExpandAs, {base, s.value}, t);
    std::vector<ir::Value*> operands = {base};
    for (ir::Value* v : L.listValues(1)) operands.push_back(v);
    return b.create1(OpKind::Expand, operands, t);
  }
  throw NotLowered{"unknown view op"};
}

void lowerView(Lowering& L) { L.out(emitView(L, L.in(0))); }

ir::Value* emitScatter(Lowering& L, ir::Value* base, ir::Value* src) {
  std::string name = L.node()->kind().toQualString();
  auto& b = L.b();
  Type t = Type::unknownTensor();
  if (name == "aten::select")
    return b.create1(OpKind::SelectScatter, {base, src, L.in(2)}, t, attrs({{"dim", L.cint(1, "dim")}}));
  if (name == "aten::slice") {
    ir::Value* start = L.isNone(2) ? b.constantInt(0) : L.in(2);
    ir::Value* end = L.isNone(3) ? b.constantInt(ir::Builder::kMaxTrip) : L.in(3);
    return b.create1(OpKind::SliceScatter, {base, src, start, end}, t,
                     attrs({{"dim", L.cint(1, "dim")}, {"step", L.cint(4, "step")}}));
  }
  if (name == "aten::narrow") {
    auto [start, end] = narrowBounds(L, base);
    return b.create1(OpKind::SliceScatter, {base, src, start, end}, t,
                     attrs({{"dim", L.cint(1, "dim")}, {"step", int64_t{1}}}));
  }
  if (name == "aten::view" || name == "aten::reshape" || name == "aten::view_as" || name == "aten::reshape_as" ||
      name == "aten::flatten" || name == "aten::unsqueeze" || name == "aten::squeeze")
    return b.create1(OpKind::ReshapeAs, {src, base}, t);
  if (name == "aten::transpose")
    return b.create1(OpKind::Transpose, {src}, t, attrs({{"dim0", L.cint(1, "dim0")}, {"dim1", L.cint(2, "dim1")}}));
  if (name == "aten::t") return b.create1(OpKind::Transpose, {src}, t, attrs({{"dim0", int64_t{0}}, {"dim1", int64_t{1}}}));
  if (name == "aten::permute") {
    std::vector<int64_t> dims = L.cints(1, "dims");
    int64_t rank = static_cast<int64_t>(dims.size());
    std::vector<int64_t> inverse(dims.size());
    for (int64_t i = 0; i < rank; ++i) inverse[static_cast<size_t>((dims[i] % rank + rank) % rank)] = i;
    return b.create1(OpKind::Permute, {src}, t, attrs({{"dims", inverse}}));
  }
  L.t().fail(L.node(), fmt::format("writing into the result of {} is not supported", name), ir::ErrorKind::Unsupported);
}

// ---- writes ----------------------------------------------------------------------------

void lowerCopy(Lowering& L) {
  ir::Value* dst = L.in(0);
  ir::Value* written = L.emitTyped(OpKind::CopyInto, {dst, L.in(1)}, dst->type());
  L.t().writeInto(L.input(0), written);
  L.t().alias(L.node()->output(), L.input(0));
}

namespace {
/// The index tensors of index / index_put (input 1, a list with None for the
/// dims taken whole): each given one is appended to `operands` and its dim to
/// `dims`.
void appendIndices(Lowering& L, std::vector<int64_t>& dims, std::vector<ir::Value*>& operands) {
  const Slot& list = L.slotOf(1);
  if (list.kind != Slot::Kind::List) throw NotLowered{"its indices are not a list the compiler can see"};
  for (size_t k = 0; k < list.elems.size(); ++k) {
    if (list.elems[k].kind == Slot::Kind::None) continue;
    if (list.elems[k].kind != Slot::Kind::Value) throw NotLowered{"nested index lists are not supported"};
    dims.push_back(static_cast<int64_t>(k));
    operands.push_back(list.elems[k].value);
  }
}
}  // namespace

/// index_put(self, indices, values, accumulate), functional or in place.
ir::Value* emitIndexPut(Lowering& L) {
  std::vector<int64_t> dims;
  std::vector<ir::Value*> operands = {L.in(0), L.in(2)};
  appendIndices(L, dims, operands);
  return L.emitTyped(OpKind::IndexPut, operands, Type::unknownTensor(),
                     attrs({{"dims", dims}, {"accumulate", L.cbool(3, "accumulate")}}));
}

void lowerIndexPutInPlace(Lowering& L) {
  L.t().writeInto(L.input(0), emitIndexPut(L));
  L.t().alias(L.node()->output(), L.input(0));
}

void lowerFill(Lowering& L, bool zero) {
  ir::Value* value = zero ? L.b().constantInt(0) : L.in(1);
  ir::Value* dst = L.in(0);
  L.t().writeInto(L.input(0), L.emitTyped(OpKind::FullLike, {dst, value}, dst->type()));
  L.t().alias(L.node()->output(), L.input(0));
}

void lowerIndex(Lowering& L) {
  std::vector<int64_t> dims;
  std::vector<ir::Value*> operands = {L.in(0)};
  appendIndices(L, dims, operands);
  L.out(L.emit(OpKind::Index, operands, attrs({{"dims", dims}})));
}

}  // namespace lowering

using lowering::Lowering;
using lowering::NotLowered;

ir::Value* GraphTranslator::recomputeView(const jit::Node* viewNode, ir::Value* base) {
  Lowering L(*this, const_cast<jit::Node*>(viewNode));
  try {
    return emitView(L, base);
  } catch (const NotLowered& e) {
    fail(viewNode, e.reason);
  }
}

ir::Value* GraphTranslator::scatterInto(const jit::Node* viewNode, ir::Value* base, ir::Value* src) {
  Lowering L(*this, const_cast<jit::Node*>(viewNode));
  try {
    return emitScatter(L, base, src);
  } catch (const NotLowered& e) {
    fail(viewNode, e.reason);
  }
}

}  // namespace cocktail::frontend
