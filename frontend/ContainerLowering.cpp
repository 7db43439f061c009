//===- frontend/ContainerLowering.cpp - Lists, tuples and sizes the compiler sees ----===//
//
// A list or tuple whose elements the compiler can see (ListConstruct,
// TupleConstruct, a tensor's size list, the pieces of chunk/split/unbind)
// is not an IR value but a Slot: unpacking, indexing by a constant, len()
// and concatenation are resolved at compile time, and only what needs the
// data (a size, a list indexed at run time, two int lists compared) emits
// IR. Lists that loops append to are rows of a buffer (ListLowering.cpp).
//
//===----------------------------------------------------------------------===//
#include <optional>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "frontend/Lowering.h"

namespace cocktail::frontend::lowering {

namespace {

void lowerListConstruct(Lowering& L) {
  std::vector<Slot> elems;
  for (size_t i = 0; i < L.numInputs(); ++i) {
    const Slot& s = L.slotOf(i);
    elems.push_back(s.kind == Slot::Kind::Value ? Slot::of(L.in(i)) : s);
  }
  L.outSlot(Slot::list(std::move(elems)));
}

void lowerUnpack(Lowering& L) {
  const Slot& s = L.slotOf(0);
  size_t n = L.node()->outputs().size();
  if (s.kind == Slot::Kind::SizeList) {
    for (size_t i = 0; i < n; ++i)
      L.out(L.emitTyped(OpKind::Size, {s.value, L.b().constantInt(static_cast<int64_t>(i))}, Type::scalar(DType::I64)),
            i);
    return;
  }
  if (s.kind != Slot::Kind::List) throw NotLowered{"unpacking a value that is not a tuple or list"};
  if (s.elems.size() != n)
    L.t().fail(L.node(), fmt::format("unpacking {} values from a list of {}", n, s.elems.size()));
  std::vector<Slot> elems = s.elems;
  for (size_t i = 0; i < n; ++i) L.outSlot(elems[i], i);
}

void lowerGetItem(Lowering& L) {
  if (lowerRowsGetItem(L)) return;
  const Slot& s = L.slotOf(0);
  if (s.kind == Slot::Kind::SizeList)
    return L.out(L.emitTyped(OpKind::Size, {s.value, L.in(1)}, Type::scalar(DType::I64)));
  if (s.kind != Slot::Kind::List) throw NotLowered{"indexing a value that is not a list"};
  int64_t n = static_cast<int64_t>(s.elems.size());
  if (!L.t().constInt(L.input(1))) {
    // `size[i + 2]` in a loop over a list of ints (F.group_norm's batch size
    // check): the ints as a tensor, and its element i (out of range fails).
    std::vector<ir::Value*> ints;
    for (const Slot& e : s.elems) {
      if (e.kind != Slot::Kind::Value || !e.value->type().isScalar() || e.value->type().dtype() != DType::I64)
        throw NotLowered{"only a list of ints can be indexed by a run-time index"};
      ints.push_back(L.emitTyped(OpKind::ToTensor, {e.value}, Type::unknownTensor(), attrs({{"dtype", DType::I64}})));
    }
    if (ints.empty()) L.t().fail(L.node(), "list index out of range for an empty list");
    Type t = Type::unknownTensor();
    ir::Value* all = L.emitTyped(OpKind::Stack, ints, t, attrs({{"dim", int64_t{0}}}));
    ir::Value* one = L.emitTyped(OpKind::Select, {all, L.in(1)}, t, attrs({{"dim", int64_t{0}}}));
    return L.out(L.emitTyped(OpKind::ToScalar, {one}, Type::scalar(DType::I64)));
  }
  int64_t i = L.cint(1, "list index");
  if (i < -n || i >= n) L.t().fail(L.node(), fmt::format("list index {} out of range for a list of {}", i, n));
  Slot e = s.elems[static_cast<size_t>(i < 0 ? i + n : i)];
  L.outSlot(std::move(e));
}

void lowerTupleIndex(Lowering& L) { lowerGetItem(L); }

/// list(xs): a copy of a list the compiler sees (lists are values here).
void lowerListCopy(Lowering& L) {
  const Slot& s = L.slotOf(0);
  if (s.kind != Slot::Kind::List && s.kind != Slot::Kind::SizeList) throw NotLowered{"list() of this value"};
  Slot copy = s;
  L.outSlot(copy);
}

void lowerLen(Lowering& L) {
  if (lowerRowsLen(L)) return;
  const Slot& s = L.slotOf(0);
  if (s.kind == Slot::Kind::SizeList) return L.out(L.emitTyped(OpKind::Rank, {s.value}, Type::scalar(DType::I64)));
  if (s.kind == Slot::Kind::List) return L.out(L.b().constantInt(static_cast<int64_t>(s.elems.size())));
  if (L.isTensor(0)) return L.out(L.emitTyped(OpKind::Size, {L.in(0), L.b().constantInt(0)}, Type::scalar(DType::I64)));
  throw NotLowered{"len() of this value"};
}

/// The i64 elements of an int[] whose length is known: a size list of a
/// tensor of known rank, or a list built of ints.
std::optional<std::vector<ir::Value*>> intElements(Lowering& L, size_t i) {
  const Slot& s = L.slotOf(i);
  std::vector<ir::Value*> out;
  if (s.kind == Slot::Kind::SizeList) {
    if (!s.value->type().hasRank()) return std::nullopt;
    for (size_t d = 0; d < s.value->type().dims().size(); ++d)
      out.push_back(
          L.emitTyped(OpKind::Size, {s.value}, Type::scalar(DType::I64), attrs({{"dim", static_cast<int64_t>(d)}})));
    return out;
  }
  if (s.kind != Slot::Kind::List) return std::nullopt;
  for (const Slot& e : s.elems) {
    if (e.kind != Slot::Kind::Value || !e.value->type().isScalar()) return std::nullopt;
    out.push_back(e.value);
  }
  return out;
}

void lowerSize(Lowering& L) {
  if (L.numInputs() == 1) {
    Slot s;
    s.kind = Slot::Kind::SizeList;
    s.value = L.in(0);
    return L.outSlot(s);
  }
  L.out(L.emit(OpKind::Size, {L.in(0), L.in(1)}));
}

/// Number of outputs of the ListUnpack that consumes a list-returning op.
size_t unpackCount(Lowering& L) {
  const jit::Value* out = L.node()->output();
  if (out->uses().size() != 1 || out->uses()[0].user->kind() != c10::prim::ListUnpack)
    throw NotLowered{"its list result is used other than by unpacking into a fixed number of values"};
  return out->uses()[0].user->outputs().size();
}

void lowerChunk(Lowering& L) {
  int64_t chunks = L.cint(1, "chunks");
  int64_t dim = L.cint(2, "dim");
  size_t n = unpackCount(L);
  std::vector<Type> types(n, Type::unknownTensor());
  ir::Op* op = L.b().create(OpKind::Chunk, {L.in(0)}, types, attrs({{"chunks", chunks}, {"dim", dim}}));
  std::vector<Slot> elems;
  for (size_t i = 0; i < n; ++i) elems.push_back(Slot::of(op->result(i)));
  L.outSlot(Slot::list(std::move(elems)));
}

void lowerConstantChunk(Lowering& L) {
  jit::Node* n = L.node();
  int64_t chunks = n->i(c10::attr::chunks);
  int64_t dim = n->i(c10::attr::dim);
  std::vector<Type> types(n->outputs().size(), Type::unknownTensor());
  ir::Op* op = L.b().create(OpKind::Chunk, {L.in(0)}, types, attrs({{"chunks", chunks}, {"dim", dim}}));
  for (size_t i = 0; i < n->outputs().size(); ++i) L.out(op->result(i), i);
}

void lowerSplit(Lowering& L) {
  int64_t dim = L.cint(2, "dim");
  std::vector<Slot> elems;
  if (auto sizes = L.t().constIntList(L.input(1));
      sizes && L.node()->input(1)->type()->kind() != c10::TypeKind::IntType) {
    std::vector<Type> types(sizes->size(), Type::unknownTensor());
    ir::Op* op = L.b().create(OpKind::Split, {L.in(0)}, types, attrs({{"sizes", *sizes}, {"dim", dim}}));
    for (size_t i = 0; i < sizes->size(); ++i) elems.push_back(Slot::of(op->result(i)));
    return L.outSlot(Slot::list(std::move(elems)));
  }
  // split(size): every piece but the last has `size` elements along dim.
  size_t n = unpackCount(L);
  ir::Value* size = L.in(1);
  ir::Value* x = L.in(0);
  for (size_t i = 0; i < n; ++i) {
    ir::Value* idx = L.b().constantInt(static_cast<int64_t>(i));
    ir::Value* start = L.emitTyped(OpKind::Mul, {idx, size}, Type::scalar(DType::I64));
    ir::Value* end = L.emitTyped(OpKind::Add, {start, size}, Type::scalar(DType::I64));
    elems.push_back(Slot::of(L.emitTyped(OpKind::Slice, {x, start, end}, Type::unknownTensor(),
                                         attrs({{"dim", dim}, {"step", int64_t{1}}}))));
  }
  L.outSlot(Slot::list(std::move(elems)));
}

void lowerUnbind(Lowering& L) {
  int64_t dim = L.cint(1, "dim");
  size_t n = unpackCount(L);
  std::vector<Slot> elems;
  for (size_t i = 0; i < n; ++i)
    elems.push_back(Slot::of(L.emitTyped(OpKind::Select, {L.in(0), L.b().constantInt(static_cast<int64_t>(i))},
                                         Type::unknownTensor(), attrs({{"dim", dim}}))));
  L.outSlot(Slot::list(std::move(elems)));
}

LowerFn catOrStack(OpKind k) {
  return [k](Lowering& L) {
    if (lowerRowsStackOrCat(L, k)) return;
    L.out(L.emit(k, L.listValues(0), attrs({{"dim", L.cint(1, "dim")}})));
  };
}

}  // namespace

/// xs + ys on two lists the compiler sees; false when the node is not.
bool lowerListConcat(Lowering& L) {
  if (L.numInputs() != 2 || L.input(0)->type()->kind() != c10::TypeKind::ListType) return false;
  const Slot& a = L.slotOf(0);
  const Slot& b = L.slotOf(1);
  if (a.kind != Slot::Kind::List || b.kind != Slot::Kind::List)
    throw NotLowered{"adding lists that are not plain lists"};
  std::vector<Slot> elems = a.elems;
  elems.insert(elems.end(), b.elems.begin(), b.elems.end());
  L.outSlot(Slot::list(std::move(elems)));
  return true;
}

/// `attn_mask.shape != (tgt_len, src_len)`: int lists compared element by
/// element at run time. False when the node is not on two int lists.
bool lowerListComparison(Lowering& L, bool negate) {
  if (L.numInputs() != 2 || !L.input(0)->type()->isSubtypeOf(*c10::ListType::ofInts()) ||
      !L.input(1)->type()->isSubtypeOf(*c10::ListType::ofInts()))
    return false;
  auto a = intElements(L, 0);
  auto b = intElements(L, 1);
  if (!a || !b) return false;
  Type i1 = Type::scalar(DType::I1);
  ir::Value* equal = L.b().constantBool(a->size() == b->size());
  for (size_t k = 0; a->size() == b->size() && k < a->size(); ++k)
    equal = L.emitTyped(OpKind::And, {equal, L.emitTyped(OpKind::Eq, {(*a)[k], (*b)[k]}, i1)}, i1);
  L.out(negate ? L.emitTyped(OpKind::Not, {equal}, i1) : equal);
  return true;
}

/// `input.dim() in (1, 2)` (the cells' rank guard): an int compared with each
/// element of an int list the compiler sees, or'ed.
void lowerContains(Lowering& L) {
  if (!L.input(0)->type()->isSubtypeOf(*c10::ListType::ofInts()) ||
      !L.input(1)->type()->isSubtypeOf(*c10::IntType::get()))
    throw NotLowered{"only `int in List[int]` is supported"};
  auto elems = intElements(L, 0);
  if (!elems) throw NotLowered{"its list is not one the compiler can see"};
  Type i1 = Type::scalar(DType::I1);
  ir::Value* found = L.b().constantBool(false);
  for (ir::Value* e : *elems) found = L.emitTyped(OpKind::Or, {found, L.emitTyped(OpKind::Eq, {e, L.in(1)}, i1)}, i1);
  L.out(found);
}

// ---- the table ------------------------------------------------------------------------------

void addContainerLowerings(std::unordered_map<std::string, LowerFn>& table) {
  const std::pair<const char*, LowerFn> entries[] = {
      {"aten::cat", catOrStack(OpKind::Cat)},
      {"aten::stack", catOrStack(OpKind::Stack)},
      {"aten::chunk", lowerChunk},
      {"prim::ConstantChunk", lowerConstantChunk},
      {"aten::split", lowerSplit},
      {"aten::split_with_sizes", lowerSplit},
      {"aten::unbind", lowerUnbind},
      {"aten::size", lowerSize},
      {"aten::len", lowerLen},
      {"aten::__getitem__", lowerGetItem},
      {"aten::append", lowerAppend},
      {"aten::__contains__", lowerContains},
      {"aten::list", lowerListCopy},
      {"prim::ListConstruct", lowerListConstruct},
      {"prim::TupleConstruct", lowerListConstruct},
      {"prim::ListUnpack", lowerUnpack},
      {"prim::TupleUnpack", lowerUnpack},
      {"prim::TupleIndex", lowerTupleIndex},
  };
  for (const auto& [name, lower] : entries) table.emplace(name, lower);
}

}  // namespace cocktail::frontend::lowering
