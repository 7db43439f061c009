//===- frontend/ScalarListLoops.cpp - Lists of numbers built by loops over dims -----===//
#include "frontend/ScalarListLoops.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <vector>

#include <torch/csrc/jit/ir/constants.h>

namespace cocktail::frontend {

namespace jit = torch::jit;

namespace {

/// Comprehensions over dims run a handful of steps; a loop of more is a loop.
constexpr int64_t kMaxUnrolledSteps = 8;

bool holdsNumbers(const jit::Value* list) {
  auto t = list->type()->cast<c10::ListType>();
  if (!t) return false;
  switch (t->getElementType()->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::FloatType:
    case c10::TypeKind::BoolType: return true;
    default: return false;
  }
}

bool isInside(const jit::Node* n, const jit::Node* ancestor) {
  for (const jit::Block* b = n->owningBlock(); b && b->owningNode(); b = b->owningNode()->owningBlock())
    if (b->owningNode() == ancestor) return true;
  return false;
}

/// True when `block` (or a block nested in it) appends a number to a list
/// made outside `loop`.
bool appendsNumbersOutside(const jit::Block* block, const jit::Node* loop) {
  for (const jit::Node* n : block->nodes()) {
    for (const jit::Block* sub : n->blocks())
      if (appendsNumbersOutside(sub, loop)) return true;
    if (n->kind() == c10::aten::append && holdsNumbers(n->input(0)) && !isInside(n->input(0)->node(), loop))
      return true;
  }
  return false;
}

/// The trip count of a `for` loop over a constant range, when it is small.
std::optional<int64_t> constantTrips(const jit::Node* loop) {
  auto trips = jit::toIValue(loop->input(0));
  auto cond = jit::toIValue(loop->input(1));
  auto stepCond = jit::toIValue(loop->blocks()[0]->outputs()[0]);
  if (!trips || !trips->isInt() || !cond || !cond->isBool() || !cond->toBool() || !stepCond || !stepCond->isBool() ||
      !stepCond->toBool())
    return std::nullopt;
  if (trips->toInt() < 0 || trips->toInt() > kMaxUnrolledSteps) return std::nullopt;
  return trips->toInt();
}

/// Copies the loop's body once per step before the loop, then removes it.
void unroll(jit::Node* loop, int64_t trips) {
  jit::Graph* g = loop->owningGraph();
  jit::Block* body = loop->blocks()[0];
  std::vector<jit::Value*> carried(loop->inputs().begin() + 2, loop->inputs().end());
  jit::WithInsertPoint at(loop);
  for (int64_t step = 0; step < trips; ++step) {
    std::unordered_map<jit::Value*, jit::Value*> env;
    env[body->inputs()[0]] = g->insertConstant(step);
    for (size_t j = 0; j < carried.size(); ++j) env[body->inputs()[j + 1]] = carried[j];
    auto mapped = [&](jit::Value* v) {
      auto it = env.find(v);
      return it == env.end() ? v : it->second;
    };
    for (jit::Node* n : body->nodes()) {
      jit::Node* copy = g->insertNode(g->createClone(n, mapped));
      for (size_t i = 0; i < n->outputs().size(); ++i) env[n->outputs()[i]] = copy->outputs()[i];
    }
    for (size_t j = 0; j < carried.size(); ++j) carried[j] = mapped(body->outputs()[j + 1]);
  }
  for (size_t j = 0; j < carried.size(); ++j) loop->outputs()[j]->replaceAllUsesWith(carried[j]);
  loop->destroy();
}

bool unrollIn(jit::Block* block) {
  bool changed = false;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    jit::Node* n = *it++;
    for (jit::Block* sub : n->blocks()) changed |= unrollIn(sub);
    if (n->kind() != c10::prim::Loop) continue;
    auto trips = constantTrips(n);
    if (!trips || !appendsNumbersOutside(n->blocks()[0], n)) continue;
    unroll(n, *trips);
    changed = true;
  }
  return changed;
}

/// A use that only reads the list (by its schema), or unpacks or returns it.
bool onlyReads(const jit::Use& u) {
  c10::Symbol k = u.user->kind();
  if (k == c10::prim::ListUnpack || k == c10::prim::TupleConstruct || k == c10::prim::Return) return true;
  const c10::FunctionSchema* schema = u.user->maybeSchema();
  if (!schema || u.offset >= schema->arguments().size()) return false;
  const auto& alias = schema->arguments()[u.offset].alias_info();
  return !(alias && alias->isWrite());
}

/// `l.append(x)` or `l[i] = x` with a constant i, whose result is not used.
bool isListWrite(const jit::Use& u, const jit::Node* construct) {
  c10::Symbol k = u.user->kind();
  if (u.offset != 0 || u.user->owningBlock() != construct->owningBlock()) return false;
  if (k == c10::aten::append) return !u.user->output()->hasUses();
  if (k == c10::aten::_set_item) {
    auto i = jit::toIValue(u.user->input(1));
    return i && i->isInt() && (u.user->outputs().empty() || !u.user->output()->hasUses());
  }
  return false;
}

bool foldAppends(jit::Node* construct) {
  jit::Value* list = construct->output();
  if (!holdsNumbers(list)) return false;
  std::vector<jit::Node*> writes;
  std::vector<jit::Use> reads;
  for (const jit::Use& u : list->uses()) {
    if (isListWrite(u, construct)) writes.push_back(u.user);
    else reads.push_back(u);
  }
  if (writes.empty()) return false;
  std::sort(writes.begin(), writes.end(), [](jit::Node* a, jit::Node* b) { return a->isBefore(b); });
  jit::Node* last = writes.back();
  for (const jit::Use& u : reads)
    if (!onlyReads(u) || !u.user->isAfter(last)) return false;
  std::vector<jit::Value*> elems(construct->inputs().begin(), construct->inputs().end());
  for (jit::Node* w : writes) {
    if (w->kind() == c10::aten::append) {
      elems.push_back(w->input(1));
      continue;
    }
    int64_t size = static_cast<int64_t>(elems.size());
    int64_t i = jit::toIValue(w->input(1))->toInt();
    if (i < -size || i >= size) return false;  // out of range: the interpreter's error stays
    elems[static_cast<size_t>(i < 0 ? i + size : i)] = w->input(2);
  }
  jit::Graph* g = construct->owningGraph();
  jit::Node* folded = g->createList(list->type()->cast<c10::ListType>()->getElementType(), elems);
  folded->insertAfter(last);
  folded->setSourceRange(construct->sourceRange());
  for (const jit::Use& u : reads) u.user->replaceInput(u.offset, folded->output());
  for (jit::Node* w : writes) w->destroy();
  construct->destroy();
  return true;
}

/// `l.copy()` of a list of numbers that is a ListConstruct or a constant: a
/// ListConstruct of the same elements (swin's `shift_size.copy()`).
jit::Node* foldCopy(jit::Node* n) {
  if (n->kind() != c10::aten::copy || n->inputs().size() != 1 || !holdsNumbers(n->input(0))) return nullptr;
  jit::Graph* g = n->owningGraph();
  jit::WithInsertPoint at(n);
  std::vector<jit::Value*> elems;
  if (auto c = jit::toIValue(n->input(0))) {
    if (!c->isList()) return nullptr;
    for (const c10::IValue& e : c->toListRef()) elems.push_back(g->insertConstant(e));
  } else if (n->input(0)->node()->kind() == c10::prim::ListConstruct) {
    // Its elements as made, so only when nothing writes into it.
    if (!neverWritten(n->input(0))) return nullptr;
    for (jit::Value* e : n->input(0)->node()->inputs()) elems.push_back(e);
  } else {
    return nullptr;
  }
  jit::Node* list = g->insertNode(g->createList(n->input(0)->type()->cast<c10::ListType>()->getElementType(), elems));
  list->setSourceRange(n->sourceRange());
  n->output()->replaceAllUsesWith(list->output());
  n->destroy();
  return list;
}

void collectListConstructs(jit::Block* block, std::vector<jit::Node*>& out) {
  for (jit::Node* n : block->nodes()) {
    for (jit::Block* sub : n->blocks()) collectListConstructs(sub, out);
    if (n->kind() == c10::prim::ListConstruct || n->kind() == c10::aten::copy) out.push_back(n);
  }
}

}  // namespace

bool neverWritten(const jit::Value* list) {
  for (const jit::Use& u : list->uses())
    if (!onlyReads(u)) return false;
  return true;
}

bool unrollScalarListLoops(const std::shared_ptr<jit::Graph>& graph) { return unrollIn(graph->block()); }

bool foldAppendsIntoLists(const std::shared_ptr<jit::Graph>& graph) {
  // Collected first: a fold removes the writes after its list.
  std::vector<jit::Node*> constructs;
  collectListConstructs(graph->block(), constructs);
  bool changed = false;
  for (jit::Node* n : constructs) {
    if (n->kind() == c10::aten::copy) {
      n = foldCopy(n);  // the ListConstruct that replaced it
      if (!n) continue;
      changed = true;
    }
    changed |= foldAppends(n);
  }
  return changed;
}

}  // namespace cocktail::frontend
