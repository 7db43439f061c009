//===- frontend/ListLowering.cpp - Lists of tensors that control flow appends to ----===//
//
// A `List[Tensor]` built by `append` where no loop or if is involved stays a
// list of IR values (a Slot::List). One that a loop or an if appends to
// becomes Rows: its elements are the rows of one buffer tensor, with their
// count, both carried through the control flow like any written tensor.
//
//   append(x):  if count == 0: buffer = capacity copies of x       (allocate)
//               else:          buffer = cat(buffer, buffer) when full (double)
//                              buffer[count] = x                   (select_scatter)
//               count += 1
//
// The first capacity is the trip count of the loop that turned the list into
// rows (GraphTranslator::tripBound; at most kFirstRowsCap, at least 1): a
// `for` loop over range(n) that appends once a step, with or without a
// break, never grows its buffer; a `while` loop starts at one row and
// doubles. After the loop, stack/cat read the first `count` rows; len() is count,
// `list[i]` a row. Every element must have the first one's shape (the
// select_scatter checks that at run time).
//
//===----------------------------------------------------------------------===//
#include <algorithm>

#include <fmt/format.h>

#include "frontend/Lowering.h"

namespace cocktail::frontend {

using ir::DType;
using ir::OpKind;
using ir::Type;

namespace {

/// Rows allocated at most at the first append (a loop bound of 10^9 with an
/// early break must not allocate 10^9 rows); past it the buffer doubles.
constexpr int64_t kFirstRowsCap = 4096;

Slot rowsSlot(ir::Value* buffer, ir::Value* count, ir::Value* firstCapacity) {
  Slot s;
  s.kind = Slot::Kind::Rows;
  s.value = buffer;
  s.elems = {Slot::of(count), Slot::of(firstCapacity)};
  return s;
}

}  // namespace

bool isListAppend(const jit::Node* n) { return n->kind() == c10::aten::append; }

ir::Value* GraphTranslator::tripBound(const jit::Node* loop) {
  ir::Value* maxTrip = value(loop->input(0));
  const ir::Op* def = maxTrip->definingOp();
  if (!(def && def->kind() == OpKind::Constant && def->attrs().getInt("value") == ir::Builder::kMaxTrip))
    return maxTrip;
  // `for i in range(n)` with a break is a while loop that carries its own
  // counter c from 0 and whose condition is `c + 1 < n and ...`: n, when it
  // is an int defined outside the loop. (Only a first capacity: a wrong
  // guess costs memory or a doubling, never a wrong answer.)
  const jit::Block* body = loop->blocks()[0];
  const jit::Node* cond = body->outputs()[0]->node();
  if (cond->kind() != c10::aten::__and__) return nullptr;
  const jit::Node* lt = cond->input(0)->node();
  if (lt->kind() != c10::aten::lt || lt->inputs().size() != 2) return nullptr;
  const jit::Value* n = lt->input(1);
  if (n->type()->kind() != c10::TypeKind::IntType || n->node()->owningBlock() == body) return nullptr;
  const jit::Node* next = lt->input(0)->node();
  if (next->kind() != c10::aten::add || constInt(next->input(1)) != 1) return nullptr;
  const jit::Value* counter = next->input(0);
  if (counter != body->inputs()[0]) {
    auto k = std::find(body->inputs().begin(), body->inputs().end(), counter) - body->inputs().begin();
    if (k == 0 || k >= static_cast<long>(body->inputs().size()) || constInt(loop->input(static_cast<size_t>(k) + 1)) != 0)
      return nullptr;
  }
  return value(n);
}

void GraphTranslator::rootLeaves(const jit::Value* root, std::vector<ir::Value*>& out, const jit::Node* where,
                                 ir::Value* tripHint) {
  const Slot& s = slot(root);
  if (s.kind == Slot::Kind::List) {
    // The list enters control flow that appends to it: make it rows.
    const Type i64 = Type::scalar(DType::I64);
    std::vector<ir::Value*> elems;
    for (const Slot& e : s.elems) {
      if (e.kind != Slot::Kind::Value || e.value->type().isScalar())
        fail(where, "a list that a loop or an if appends to must hold tensors only");
      elems.push_back(e.value);
    }
    ir::Value* buffer = elems.empty()
                            ? b_.create1(OpKind::Undef, {}, Type::unknownTensor())
                            : b_.create1(OpKind::Stack, elems, Type::unknownTensor(), [] {
                                ir::Attributes a;
                                a.set("dim", int64_t{0});
                                return a;
                              }());
    ir::Value* count = b_.constantInt(static_cast<int64_t>(elems.size()));
    ir::Value* capacity = b_.constantInt(1);
    if (tripHint) {
      ir::Value* capped = b_.create1(OpKind::Minimum, {tripHint, b_.constantInt(kFirstRowsCap)}, i64);
      capacity = b_.create1(OpKind::Maximum, {capped, b_.constantInt(1)}, i64);
    }
    const std::string name = root->hasDebugName() ? root->debugName() : "list";
    if (!buffer->name().size()) buffer->setName(name + ".rows");
    rebind(root, rowsSlot(buffer, count, capacity));
  }
  const Slot& now = slot(root);
  if (now.kind == Slot::Kind::Rows) {
    out.push_back(now.value);
    out.push_back(now.elems.at(0).value);
    return;
  }
  out.push_back(value(root));
}

void GraphTranslator::rebindRoot(const jit::Value* root, const std::vector<ir::Value*>& leaves, size_t& pos) {
  const Slot& s = slot(root);
  if (s.kind == Slot::Kind::Rows) {
    ir::Value* buffer = leaves.at(pos++);
    ir::Value* count = leaves.at(pos++);
    const std::string name = root->hasDebugName() ? root->debugName() : "list";
    if (buffer->name().empty()) buffer->setName(name + ".rows");
    if (count->name().empty()) count->setName(name + ".len");
    rebind(root, rowsSlot(buffer, count, s.elems.at(1).value));
    return;
  }
  env_[canonical(root)] = Slot::of(leaves.at(pos++));
}

namespace lowering {

namespace {

/// An if with one result: `then` and `otherwise` build each branch's value.
template <typename Then, typename Else>
ir::Value* ifValue(ir::Builder& b, ir::Value* cond, Then then, Else otherwise) {
  ir::Op* op = b.create(OpKind::If, {cond}, {Type::unknownTensor()});
  for (int branch = 0; branch < 2; ++branch) {
    ir::Builder inner(op->addRegion());
    inner.setLoc(b.loc());
    ir::Value* v = branch == 0 ? then(inner) : otherwise(inner);
    inner.create(OpKind::Yield, {v}, {});
  }
  return op->result(0);
}

ir::Attributes dimAttr(int64_t d) {
  ir::Attributes a;
  a.set("dim", d);
  return a;
}

/// The first `count` rows of the buffer: the list's elements, stacked on dim 0.
/// An empty list raises as PyTorch does.
ir::Value* liveRows(Lowering& L, const Slot& rows, const char* emptyMessage) {
  ir::Builder& b = L.b();
  const Type i1 = Type::scalar(DType::I1);
  ir::Value* count = rows.elems.at(0).value;
  if (emptyMessage) {
    ir::Value* empty = b.create1(OpKind::Eq, {count, b.constantInt(0)}, i1);
    ir::Op* check = b.create(OpKind::If, {empty}, {});
    ir::Builder raise(check->addRegion());
    raise.setLoc(b.loc());
    ir::Attributes a;
    a.set("message", std::string(emptyMessage));
    raise.create(OpKind::Raise, {}, {}, std::move(a));
    raise.create(OpKind::Yield, {}, {});
    ir::Builder(check->addRegion()).create(OpKind::Yield, {}, {});
  }
  ir::Attributes a = dimAttr(0);
  a.set("step", int64_t{1});
  return b.create1(OpKind::Slice, {rows.value, b.constantInt(0), count}, Type::unknownTensor(), std::move(a));
}

/// x with its dim 0 moved to `d` (d >= 0), by adjacent transposes.
ir::Value* moveRowsDimTo(Lowering& L, ir::Value* x, int64_t d) {
  for (int64_t k = 0; k < d; ++k) {
    ir::Attributes a;
    a.set("dim0", k);
    a.set("dim1", k + 1);
    x = L.emitTyped(OpKind::Transpose, {x}, Type::unknownTensor(), std::move(a));
  }
  return x;
}

}  // namespace

void lowerAppend(Lowering& L) {
  const Slot s = L.slotOf(0);
  L.t().alias(L.node()->output(), L.input(0));
  if (s.kind == Slot::Kind::List) {
    // No control flow between the list and this append: it stays a list.
    Slot grown = s;
    grown.elems.push_back(Slot::of(L.in(1)));
    return L.t().rebind(L.input(0), std::move(grown));
  }
  if (s.kind != Slot::Kind::Rows) throw NotLowered{"append to a value that is not a list the compiler can see"};
  if (!L.isTensor(1)) throw NotLowered{"a list that a loop or an if appends to must hold tensors only"};
  ir::Builder& b = L.b();
  const Type i64 = Type::scalar(DType::I64), i1 = Type::scalar(DType::I1);
  ir::Value* x = L.in(1);
  ir::Value* buffer = s.value;
  ir::Value* count = s.elems.at(0).value;
  ir::Value* firstCapacity = s.elems.at(1).value;
  ir::Value* isFirst = b.create1(OpKind::Eq, {count, b.constantInt(0)}, i1);
  ir::Value* next = ifValue(
      b, isFirst,
      [&](ir::Builder& in) {
        // capacity copies of x: row 0 is x, the others are overwritten later.
        ir::Value* row = in.create1(OpKind::Unsqueeze, {x}, Type::unknownTensor(), dimAttr(0));
        ir::Attributes z;
        z.set("dtype", DType::I64);
        ir::Value* zeros = in.create1(OpKind::Full, {in.constantInt(0), firstCapacity}, Type::unknownTensor(), std::move(z));
        return in.create1(OpKind::IndexSelect, {row, zeros}, Type::unknownTensor(), dimAttr(0));
      },
      [&](ir::Builder& in) {
        ir::Value* rows = in.create1(OpKind::Size, {buffer, in.constantInt(0)}, i64);
        ir::Value* full = in.create1(OpKind::Ge, {count, rows}, i1);
        ir::Value* roomy = ifValue(
            in, full,
            [&](ir::Builder& g) { return g.create1(OpKind::Cat, {buffer, buffer}, Type::unknownTensor(), dimAttr(0)); },
            [&](ir::Builder&) { return buffer; });
        return in.create1(OpKind::SelectScatter, {roomy, x, count}, Type::unknownTensor(), dimAttr(0));
      });
  ir::Value* grown = b.create1(OpKind::Add, {count, b.constantInt(1)}, i64);
  const std::string name = L.input(0)->hasDebugName() ? L.input(0)->debugName() : "list";
  next->setName(name + ".rows");
  grown->setName(name + ".len");
  L.t().rebind(L.input(0), rowsSlot(next, grown, firstCapacity));
}

bool lowerRowsStackOrCat(Lowering& L, OpKind k) {
  const Slot s = L.slotOf(0);
  if (s.kind != Slot::Kind::Rows) return false;
  int64_t d = L.cint(1, "dim");
  if (d < 0) throw NotLowered{"a negative dim for a list built in a loop (write the dim from the front)"};
  ir::Value* rows = liveRows(L, s, k == OpKind::Stack ? "stack expects a non-empty TensorList"
                                                      : "torch.cat(): expected a non-empty list of Tensors");
  if (k == OpKind::Stack) {
    L.out(d == 0 ? rows : moveRowsDimTo(L, rows, d));
    return true;
  }
  // cat on d: rows [n, ..., e_d, ...] -> [..., n, e_d, ...] -> [..., n * e_d, ...]
  ir::Value* moved = moveRowsDimTo(L, rows, d);
  ir::Attributes a;
  a.set("start", d);
  a.set("end", d + 1);
  L.out(L.emit(OpKind::Flatten, {moved}, std::move(a)));
  return true;
}

bool lowerRowsLen(Lowering& L) {
  const Slot& s = L.slotOf(0);
  if (s.kind != Slot::Kind::Rows) return false;
  L.out(s.elems.at(0).value);
  return true;
}

bool lowerRowsGetItem(Lowering& L) {
  const Slot s = L.slotOf(0);
  if (s.kind != Slot::Kind::Rows) return false;
  // Select normalises a negative index and checks the range against count.
  ir::Value* rows = liveRows(L, s, nullptr);
  L.out(L.emit(OpKind::Select, {rows, L.in(1)}, dimAttr(0)));
  return true;
}

}  // namespace lowering

}  // namespace cocktail::frontend
