//===- passes/LayerInterchange.cpp ------------------------------------------------===//
#include "passes/LayerInterchange.h"

#include <algorithm>
#include <unordered_map>

#include "passes/LoopForm.h"

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;
using ir::Region;
using ir::Type;
using ir::Value;

namespace {

/// A state carried whole by both loops and touched only at the layer's index.
struct Stack {
  size_t timeArg;   // among the time loop's carried values
  size_t layerArg;  // among the layer loop's carried values
  Type row;         // the type of one layer's state
};

/// The loops of a stacked recurrence, as LayerInterchange.h describes them.
struct StackedRecurrence {
  Op* time = nullptr;
  Op* layers = nullptr;
  Value* xs = nullptr;
  int64_t layerCount = 0;
  size_t xArg = 0;    // x among the layer loop's carried values
  size_t outArg = 0;  // out among the time loop's carried values
  std::vector<Stack> stacks;
};

Type rowType(const Type& t) {
  std::vector<ir::Dim> dims(t.dims().begin() + 1, t.dims().end());
  return Type::tensor(t.dtype(), std::move(dims));
}

/// A tensor of known rank and dtype with a leading dim to index.
bool hasRows(const Type& t) { return t.isTensor() && t.hasRank() && t.hasDType() && t.rank() > 0; }

/// Uses of each value by the ops of `region`, at any depth.
std::unordered_map<const Value*, int> countUses(Region& region) {
  std::unordered_map<const Value*, int> uses;
  ir::walk(region, [&](Op& op) {
    for (const Value* v : op.operands()) ++uses[v];
  });
  return uses;
}

/// The layer loop's trip count when it is a constant: a `constant`, or the
/// static leading dim that `size(s, 0)` reads.
std::optional<int64_t> constantLayerCount(const Value* count) {
  if (auto n = constantIntOf(count)) return n;
  const Op* size = count->definingOp();
  if (!size || size->kind() != OpKind::Size || constantIntOf(size->operand(1)) != 0) return std::nullopt;
  const Type& t = size->operand(0)->type();
  if (!hasRows(t) || !t.dims().front().isConstant()) return std::nullopt;
  return t.dims().front().value();
}

std::optional<StackedRecurrence> match(Op& time) {
  const std::optional<ir::Dim> rows = tripCountDim(time);
  if (!rows) return std::nullopt;
  Region& body = time.region(0);
  const Value* t = body.argument(0);
  StackedRecurrence r;
  r.time = &time;
  Op* x0 = nullptr;
  Op* out = nullptr;
  const Op* count = nullptr;
  for (const auto& p : body.ops()) {
    Op& op = *p;
    if (op.kind() == OpKind::Yield || op.kind() == OpKind::Constant) continue;
    if (op.kind() == OpKind::Loop && !r.layers) {
      r.layers = &op;
    } else if (isSelectRow(op, nullptr, t) && !x0 && !ir::isDefinedInside(op.operand(0), &time)) {
      x0 = &op;
    } else if (op.kind() == OpKind::SelectScatter && !out && isScatterRow(op, op.operand(0), t)) {
      out = &op;
    } else if (op.kind() == OpKind::Size && !count) {
      count = &op;
    } else {
      return std::nullopt;
    }
  }
  if (!r.layers || !x0 || !out || !runsEveryTrip(*r.layers)) return std::nullopt;
  Op& layers = *r.layers;
  if (count && layers.operand(0) != count->result()) return std::nullopt;
  const auto n = constantLayerCount(layers.operand(0));
  if (!n || *n < 0) return std::nullopt;
  r.layerCount = *n;

  // xs: a row per step, of the type the layers pass along; out: xs's type.
  r.xs = x0->operand(0);
  const Type& xsType = r.xs->type();
  if (!hasRows(xsType) || xsType.dims().front() != *rows) return std::nullopt;
  const Op* timeYield = body.terminator();
  const size_t timeCarried = time.numOperands() - 2;
  std::vector<bool> seen(timeCarried, false);
  const Value* outInto = out->operand(0);
  if (outInto->ownerRegion() != &body || outInto->type() != xsType) return std::nullopt;
  r.outArg = static_cast<size_t>(outInto->index() - 1);
  seen[r.outArg] = true;
  if (timeYield->operand(1 + r.outArg) != out->result()) return std::nullopt;

  // The layer loop carries x and the time loop's states, nothing else.
  const size_t layerCarried = layers.numOperands() - 2;
  bool haveX = false;
  for (size_t i = 0; i < layerCarried; ++i) {
    const Value* init = layers.operand(2 + i);
    if (init == x0->result() && !haveX) {
      haveX = true;
      r.xArg = i;
      continue;
    }
    if (init->ownerRegion() != &body || init->index() == 0) return std::nullopt;
    const size_t arg = static_cast<size_t>(init->index() - 1);
    if (seen[arg]) return std::nullopt;
    seen[arg] = true;
    if (timeYield->operand(1 + arg) != layers.result(i)) return std::nullopt;
    const Type& st = init->type();
    if (!hasRows(st) || !st.dims().front().isConstant() || st.dims().front().value() < r.layerCount)
      return std::nullopt;
    r.stacks.push_back(Stack{arg, i, rowType(st)});
  }
  if (!haveX || std::find(seen.begin(), seen.end(), false) != seen.end()) return std::nullopt;
  if (out->operand(1) != layers.result(r.xArg)) return std::nullopt;
  if (x0->result()->type() != rowType(xsType) || layers.result(r.xArg)->type() != rowType(xsType)) return std::nullopt;

  // Every value of the time loop's body is used once, where the pattern
  // says: x0 by the layer loop, its results by the yield and `out[t] =`.
  auto uses = countUses(body);
  for (const auto& res : layers.results())
    if (uses[res.get()] != 1) return std::nullopt;
  if (uses[x0->result()] != 1 || uses[out->result()] != 1 || uses[outInto] != 1) return std::nullopt;
  for (const Stack& s : r.stacks)
    if (uses[body.argument(1 + s.timeArg)] != (count && count->operand(0) == body.argument(1 + s.timeArg) ? 2 : 1))
      return std::nullopt;
  if (count && uses[count->result()] != 1) return std::nullopt;

  // The layer body: no step, no value of the time body but its own
  // carried ones; each state read at [l] and written once at [l].
  Region& inner = layers.region(0);
  const Value* l = inner.argument(0);
  bool ok = true;
  ir::walk(inner, [&](Op& op) {
    for (const Value* v : op.operands())
      if (v == t || (ir::isDefinedInside(v, &time) && !ir::isDefinedInside(v, &layers))) ok = false;
  });
  if (!ok) return std::nullopt;
  auto innerUses = countUses(inner);
  const Op* innerYield = inner.terminator();
  for (const Stack& s : r.stacks) {
    const Value* state = inner.argument(1 + s.layerArg);
    int reads = 0, writes = 0;
    for (const auto& p : inner.ops()) {
      const Op& op = *p;
      if (isSelectRow(op, state, l) && op.result()->type() == s.row) ++reads;
      if (isScatterRow(op, state, l) && op.operand(1)->type() == s.row &&
          innerYield->operand(1 + s.layerArg) == op.result() && innerUses[op.result()] == 1)
        ++writes;
    }
    if (writes != 1 || innerUses[state] != reads + writes) return std::nullopt;
  }
  return r;
}

Op* insertBefore(Region& region, size_t& at, std::unique_ptr<Op> op) { return region.insert(at++, std::move(op)); }

ir::Attributes dimZero() {
  ir::Attributes a;
  a.set("dim", int64_t{0});
  return a;
}

/// Whether an op of the layer body depends on the layer alone and cannot
/// fail where the layer loop would not have run it: a constant, or `w[l]`
/// of a value from outside both loops whose leading dim covers every layer.
bool perLayer(const Op& op, const StackedRecurrence& r, const Value* l) {
  if (op.kind() == OpKind::Constant) return true;
  if (!isSelectRow(op, nullptr, l) || ir::isDefinedInside(op.operand(0), r.time)) return false;
  const Type& w = op.operand(0)->type();
  return hasRows(w) && w.dims().front().isConstant() && w.dims().front().value() >= r.layerCount;
}

void interchange(StackedRecurrence& r) {
  Op& time = *r.time;
  Op& layers = *r.layers;
  Region& parent = *time.parentRegion();
  size_t at = parent.indexOf(&time);
  Value* yes = time.operand(1);  // constant true, from before the loop
  Value* steps = time.operand(0);
  const Type xsType = r.xs->type();
  const Type xRow = rowType(xsType);

  Value* layerCount = insertBefore(parent, at,
                                   std::make_unique<Op>(OpKind::Constant, std::vector<Value*>{},
                                                        std::vector<Type>{Type::scalar(ir::DType::I64)},
                                                        [&] {
                                                          ir::Attributes a;
                                                          a.set("value", r.layerCount);
                                                          return a;
                                                        }(),
                                                        layers.loc()))
                          ->result();

  // for l: carries the sequence and the stacked states.
  std::vector<Value*> outerOperands = {layerCount, yes, r.xs};
  std::vector<Type> outerTypes = {xsType};
  for (const Stack& s : r.stacks) {
    outerOperands.push_back(time.operand(2 + s.timeArg));
    outerTypes.push_back(time.operand(2 + s.timeArg)->type());
  }
  Op* byLayer = insertBefore(parent, at, std::make_unique<Op>(OpKind::Loop, outerOperands, outerTypes,
                                                              ir::Attributes{}, layers.loc()));
  Region& layerBody = byLayer->addRegion();
  Region& oldLayerBody = layers.region(0);
  Value* l = layerBody.addArgument(Type::scalar(ir::DType::I64), oldLayerBody.argument(0)->name());
  Value* seq = layerBody.addArgument(xsType, "seq");
  std::vector<Value*> stacks;
  for (const Stack& s : r.stacks) stacks.push_back(layerBody.addArgument(time.operand(2 + s.timeArg)->type()));

  // The layer's ops that do not depend on the step, then its initial states.
  Region& old = oldLayerBody;
  const Value* oldL = old.argument(0);
  for (size_t i = 0; i < old.ops().size();) {
    if (perLayer(*old.ops()[i], r, oldL)) layerBody.append(old.take(i));
    else ++i;
  }
  std::vector<Value*> initial;
  for (size_t j = 0; j < r.stacks.size(); ++j)
    initial.push_back(layerBody
                          .append(std::make_unique<Op>(OpKind::Select, std::vector<Value*>{stacks[j], l},
                                                       std::vector<Type>{r.stacks[j].row}, dimZero(), layers.loc()))
                          ->result());

  // for t: carries the next sequence (rows replaced one by one) and the
  // layer's states.
  std::vector<Value*> innerOperands = {steps, yes, seq};
  std::vector<Type> innerTypes = {xsType};
  for (size_t j = 0; j < r.stacks.size(); ++j) {
    innerOperands.push_back(initial[j]);
    innerTypes.push_back(r.stacks[j].row);
  }
  Op* byStep = layerBody.append(std::make_unique<Op>(OpKind::Loop, innerOperands, innerTypes, ir::Attributes{},
                                                     time.loc()));
  Region& stepBody = byStep->addRegion();
  Value* t = stepBody.addArgument(Type::scalar(ir::DType::I64), time.region(0).argument(0)->name());
  Value* next = stepBody.addArgument(xsType, "next");
  std::vector<Value*> states;
  for (size_t j = 0; j < r.stacks.size(); ++j) states.push_back(stepBody.addArgument(r.stacks[j].row));
  Value* x = stepBody
                 .append(std::make_unique<Op>(OpKind::Select, std::vector<Value*>{seq, t}, std::vector<Type>{xRow},
                                              dimZero(), layers.loc()))
                 ->result();

  // The rest of the layer body, its state reads now the carried states and
  // its state writes the values it yields.
  Op* oldYield = old.terminator();
  Value* xNext = oldYield->operand(1 + r.xArg);
  std::vector<Value*> written(r.stacks.size(), nullptr);
  for (size_t j = 0; j < r.stacks.size(); ++j) {
    const Value* state = old.argument(1 + r.stacks[j].layerArg);
    for (const auto& p : old.ops()) {
      if (isSelectRow(*p, state, oldL)) ir::replaceAllUsesIn(old, p->result(), states[j]);
      if (isScatterRow(*p, state, oldL)) written[j] = p->operand(1);
    }
  }
  while (!old.empty()) {
    std::unique_ptr<Op> op = old.take(0);
    const bool stateAccess = std::any_of(r.stacks.begin(), r.stacks.end(), [&](const Stack& s) {
      const Value* state = old.argument(1 + s.layerArg);
      return isSelectRow(*op, state, oldL) || isScatterRow(*op, state, oldL);
    });
    if (op.get() == oldYield || stateAccess) continue;
    stepBody.append(std::move(op));
  }
  Value* nextRows = stepBody
                        .append(std::make_unique<Op>(OpKind::SelectScatter, std::vector<Value*>{next, xNext, t},
                                                     std::vector<Type>{xsType}, dimZero(), time.loc()))
                        ->result();
  std::vector<Value*> stepYield = {yes, nextRows};
  stepYield.insert(stepYield.end(), written.begin(), written.end());
  stepBody.append(std::make_unique<Op>(OpKind::Yield, stepYield, std::vector<Type>{}));

  // The layer's final states back into the stacks.
  std::vector<Value*> layerYield = {yes, byStep->result(0)};
  for (size_t j = 0; j < r.stacks.size(); ++j)
    layerYield.push_back(layerBody
                             .append(std::make_unique<Op>(OpKind::SelectScatter,
                                                          std::vector<Value*>{stacks[j], byStep->result(1 + j), l},
                                                          std::vector<Type>{stacks[j]->type()}, dimZero(),
                                                          layers.loc()))
                             ->result());
  layerBody.append(std::make_unique<Op>(OpKind::Yield, layerYield, std::vector<Type>{}));
  // Last, so that the yields built above are renamed too (a layer may pass
  // x through unchanged).
  ir::replaceAllUsesIn(layerBody, const_cast<Value*>(oldL), l);
  ir::replaceAllUsesIn(layerBody, old.argument(1 + r.xArg), x);

  // The time loop's results are the layer loop's.
  Region* root = &parent;
  while (root->parentOp()) root = root->parentOp()->parentRegion();
  ir::replaceAllUsesIn(*root, time.result(r.outArg), byLayer->result(0));
  for (size_t j = 0; j < r.stacks.size(); ++j)
    ir::replaceAllUsesIn(*root, time.result(r.stacks[j].timeArg), byLayer->result(1 + j));
  parent.take(parent.indexOf(&time));
}

class LayerInterchange final : public Pass {
 public:
  std::string_view name() const override { return "interchange-layers"; }
  std::string_view description() const override {
    return "run a stacked recurrence (a loop over steps around a loop over layers) layer by layer over all steps";
  }
  ir::Status run(ir::Program& program) override {
    interchangeIn(program.body());
    return ir::Status::success();
  }

 private:
  void interchangeIn(Region& region) {
    for (size_t i = 0; i < region.ops().size(); ++i) {
      Op* op = region.ops()[i].get();
      if (op->kind() == OpKind::Fused) continue;
      for (const auto& r : op->regions()) interchangeIn(*r);
      if (op->kind() != OpKind::Loop) continue;
      if (auto r = match(*op)) {
        interchange(*r);
        ++i;  // the new layer count constant stands before the new loop
      }
    }
  }
};

}  // namespace

std::unique_ptr<Pass> createLayerInterchangePass() { return std::make_unique<LayerInterchange>(); }

}  // namespace cocktail::passes
