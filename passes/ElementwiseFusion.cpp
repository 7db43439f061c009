//===- passes/ElementwiseFusion.cpp -------------------------------------------------===//
//
// Greedy, in program order, within each region: an open group takes every
// fusible op of its shape; an op that reads a value of the group and cannot
// join it closes the group. A closed group of two or more ops is replaced by
// a `fused` op placed where its last member was: every value a member reads
// from outside is defined before that point, and nothing between the first
// and last member reads a member's value (else the group would have closed).
//
//===----------------------------------------------------------------------===//
#include "passes/ElementwiseFusion.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace cocktail::passes {

using ir::DType;
using ir::Op;
using ir::OpKind;
using ir::Value;

bool isFusibleElementwise(const Op& op) {
  if (!ir::hasTrait(op.kind(), ir::kFusible)) return false;
  if (op.numResults() != 1) return false;
  const ir::Type& t = op.result()->type();
  if (!t.isTensor() || !t.hasDType() || t.dtype() != DType::F32 || !t.hasRank()) return false;
  // Every dim must be known to equal its partner's: `?` dims may differ.
  for (const ir::Dim& d : t.dims())
    if (d.isUnknown()) return false;
  for (const Value* v : op.operands()) {
    const ir::Type& o = v->type();
    if (o.isScalar()) {
      // int and float scalars broadcast as f32; bool arithmetic is not fused.
      if (!o.hasDType() || (o.dtype() != DType::F64 && o.dtype() != DType::I64)) return false;
      continue;
    }
    if (!o.hasDType() || o.dtype() != DType::F32 || !o.hasRank()) return false;
    if (o.rank() != 0 && o.dims() != t.dims()) return false;  // no broadcasting but of scalars
  }
  return true;
}

namespace {

/// True when `op` or an op nested in its regions reads a value of `values`.
bool readsAny(const Op& op, const std::unordered_set<const Value*>& values) {
  for (const Value* v : op.operands())
    if (values.count(v)) return true;
  for (const auto& r : op.regions())
    for (const auto& inner : r->ops())
      if (readsAny(*inner, values)) return true;
  return false;
}

struct Group {
  std::vector<Op*> members;
  std::vector<ir::Dim> shape;
  std::unordered_set<const Value*> defined;
};

/// Replaces `group`'s ops in `region` by one fused op.
void materialize(ir::Region& region, const Group& group) {
  std::unordered_set<const Op*> isMember(group.members.begin(), group.members.end());

  // Inputs: what members read from outside, each once, in first-use order.
  std::vector<Value*> inputs;
  for (Op* m : group.members)
    for (Value* v : m->operands())
      if (!group.defined.count(v) && std::find(inputs.begin(), inputs.end(), v) == inputs.end())
        inputs.push_back(v);

  // Outputs: member values read by any other op (a terminator included).
  std::unordered_set<const Value*> usedOutside;
  ir::walk(region, [&](Op& op) {
    if (isMember.count(&op)) return;
    for (const Value* v : op.operands())
      if (group.defined.count(v)) usedOutside.insert(v);
  });
  std::vector<Value*> outputs;
  std::vector<ir::Type> outputTypes;
  for (Op* m : group.members)
    if (usedOutside.count(m->result())) {
      outputs.push_back(m->result());
      outputTypes.push_back(m->result()->type());
    }

  auto fused = std::make_unique<Op>(OpKind::Fused, inputs, outputTypes, ir::Attributes{}, group.members.back()->loc());
  for (size_t i = 0; i < outputs.size(); ++i) fused->result(i)->setName(outputs[i]->name());
  std::unordered_map<const Value*, Value*> outerToFused;
  for (size_t i = 0; i < outputs.size(); ++i) outerToFused[outputs[i]] = fused->result(i);
  ir::walk(region, [&](Op& op) {
    if (isMember.count(&op)) return;
    for (size_t i = 0; i < op.numOperands(); ++i)
      if (auto it = outerToFused.find(op.operand(i)); it != outerToFused.end()) op.setOperand(i, it->second);
  });

  ir::Region& body = fused->addRegion();
  std::unordered_map<const Value*, Value*> inputToArg;
  for (Value* v : inputs) inputToArg[v] = body.addArgument(v->type(), v->name());

  // Take the members out (back to front keeps the earlier indices valid),
  // then put the fused op where the last one was.
  std::vector<size_t> positions;
  for (size_t i = 0; i < region.size(); ++i)
    if (isMember.count(region.ops()[i].get())) positions.push_back(i);
  std::vector<std::unique_ptr<Op>> taken;
  for (size_t k = positions.size(); k-- > 0;) taken.push_back(region.take(positions[k]));
  std::reverse(taken.begin(), taken.end());
  const size_t at = positions.back() - (positions.size() - 1);
  for (auto& m : taken) {
    for (size_t i = 0; i < m->numOperands(); ++i)
      if (auto it = inputToArg.find(m->operand(i)); it != inputToArg.end()) m->setOperand(i, it->second);
    body.append(std::move(m));
  }
  body.append(std::make_unique<Op>(OpKind::Yield, outputs, std::vector<ir::Type>{}));
  region.insert(at, std::move(fused));
}

void fuseRegion(ir::Region& region) {
  for (const auto& op : region.ops())
    if (op->kind() != OpKind::Fused)
      for (const auto& r : op->regions()) fuseRegion(*r);

  std::vector<Group> groups;
  Group open;
  auto close = [&] {
    if (open.members.size() >= 2) groups.push_back(std::move(open));
    open = Group{};
  };
  for (const auto& opPtr : region.ops()) {
    Op& op = *opPtr;
    if (isFusibleElementwise(op)) {
      if (!open.members.empty() && op.result()->type().dims() != open.shape) close();
      if (open.members.empty()) open.shape = op.result()->type().dims();
      open.members.push_back(&op);
      open.defined.insert(op.result());
      continue;
    }
    if (readsAny(op, open.defined)) close();
  }
  close();
  for (const Group& g : groups) materialize(region, g);
}

class ElementwiseFusion final : public Pass {
 public:
  std::string_view name() const override { return "fuse-elementwise"; }
  std::string_view description() const override {
    return "fuse chains of same-shape f32 elementwise ops into one fused uOperator";
  }
  ir::Status run(ir::Program& program) override {
    fuseRegion(program.body());
    return ir::Status::success();
  }
};

}  // namespace

std::unique_ptr<Pass> createElementwiseFusionPass() { return std::make_unique<ElementwiseFusion>(); }

}  // namespace cocktail::passes
