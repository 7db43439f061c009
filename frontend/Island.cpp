//===- frontend/Island.cpp - Ops the compiler does not lower ---------------------===//
//
// An op without a lowering becomes a TorchScript island: a one-node graph,
// printed as text into the `island` op's `graph` attribute, that the runtime
// parses back and runs with the TorchScript interpreter on the host. Constant
// non-tensor inputs (ints, strings, None) are cloned into the island; every
// other input becomes an island input and an operand of the `island` op.
//
//===----------------------------------------------------------------------===//
#include <memory>

#include <fmt/format.h>

#include "frontend/GraphTranslator.h"

namespace cocktail::frontend {

namespace {
bool isSupportedIslandType(const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::TensorType:
    case c10::TypeKind::IntType:
    case c10::TypeKind::FloatType:
    case c10::TypeKind::BoolType:
    case c10::TypeKind::NoneType: return true;
    default: return false;
  }
}
}  // namespace

void GraphTranslator::emitIsland(jit::Node* n, const std::string& whyNot) {
  std::string opName = n->kind().toQualString();
  for (const jit::Value* o : n->outputs())
    if (!isSupportedIslandType(o->type()))
      fail(n, fmt::format("{} is not supported{} and cannot run as a TorchScript island either: it returns a {}",
                          opName, whyNot.empty() ? "" : " (" + whyNot + ")", o->type()->repr_str()));
  if (!n->blocks().empty()) fail(n, fmt::format("{} has nested blocks and is not supported", opName));

  auto g = std::make_shared<jit::Graph>();
  std::unordered_map<const jit::Value*, jit::Value*> map;
  std::vector<ir::Value*> operands;
  for (const jit::Value* in : n->inputs()) {
    if (map.count(in)) continue;
    const jit::Node* producer = in->node();
    auto iv = jit::toIValue(in);
    if (iv && !iv->isTensor()) {
      jit::Node* c = g->createClone(const_cast<jit::Node*>(producer), [](jit::Value* v) { return v; });
      g->insertNode(c);
      map[in] = c->output();
      continue;
    }
    if (in->type()->kind() == c10::TypeKind::ListType && producer->kind() == c10::prim::ListConstruct) {
      std::vector<jit::Value*> elems;
      for (const jit::Value* e : producer->inputs()) {
        jit::Value* gi = g->addInput()->setType(e->type());
        operands.push_back(value(e));
        elems.push_back(gi);
      }
      jit::Node* lc = g->createList(in->type()->containedType(0), elems);
      g->insertNode(lc);
      map[in] = lc->output();
      continue;
    }
    if (!isSupportedIslandType(in->type()))
      fail(n, fmt::format("{} is not supported{} and cannot run as a TorchScript island either: its input %{} is a {}",
                          opName, whyNot.empty() ? "" : " (" + whyNot + ")", in->debugName(), in->type()->repr_str()));
    jit::Value* gi = g->addInput()->setType(in->type());
    operands.push_back(value(in));
    map[in] = gi;
  }
  jit::Node* clone = g->createClone(n, [&](jit::Value* v) { return map.at(v); });
  g->insertNode(clone);
  // A TorchScript function returns exactly one value: none becomes None,
  // several become a tuple that the runtime unpacks.
  std::vector<ir::Type> resultTypes;
  for (jit::Value* o : clone->outputs()) resultTypes.push_back(irType(o->type(), n));
  if (clone->outputs().empty()) {
    g->registerOutput(g->insertConstant(c10::IValue()));
  } else if (clone->outputs().size() == 1) {
    g->registerOutput(clone->output());
  } else {
    jit::Node* tuple = g->createTuple(clone->outputs());
    g->insertNode(tuple);
    g->registerOutput(tuple->output());
  }

  ir::Attributes a;
  a.set("graph", g->toString(false));
  a.set("op", opName);
  ir::Op* island = builder().create(ir::OpKind::Island, operands, resultTypes, std::move(a));
  for (size_t i = 0; i < n->outputs().size(); ++i) bind(n->output(i), island->result(i));
  fallbacks_.push_back(Fallback{opName, locationOf(n), whyNot.empty() ? "no lowering for this op" : whyNot});
}

}  // namespace cocktail::frontend
