//===- ir/Op.cpp --------------------------------------------------------------===//
#include "ir/Op.h"

#include <stdexcept>

namespace cocktail::ir {

Value* Region::addArgument(Type type, std::string name) {
  auto v = std::make_unique<Value>(std::move(type), std::move(name));
  v->ownerRegion_ = this;
  v->index_ = static_cast<int>(args_.size());
  args_.push_back(std::move(v));
  return args_.back().get();
}

Op* Region::append(std::unique_ptr<Op> op) { return insert(ops_.size(), std::move(op)); }

Op* Region::insert(size_t pos, std::unique_ptr<Op> op) {
  assert(pos <= ops_.size() && "insert position out of range");
  op->parent_ = this;
  Op* raw = op.get();
  ops_.insert(ops_.begin() + static_cast<std::ptrdiff_t>(pos), std::move(op));
  return raw;
}

std::unique_ptr<Op> Region::take(size_t pos) {
  assert(pos < ops_.size() && "take position out of range");
  std::unique_ptr<Op> op = std::move(ops_[pos]);
  ops_.erase(ops_.begin() + static_cast<std::ptrdiff_t>(pos));
  op->parent_ = nullptr;
  return op;
}

Op* Region::terminator() const {
  Op* last = back();
  if (last && last->info().opClass == OpClass::Terminator) return last;
  return nullptr;
}

Op::Op(OpKind kind, std::vector<Value*> operands, std::vector<Type> resultTypes, Attributes attrs, Location loc)
    : kind_(kind), operands_(std::move(operands)), attrs_(std::move(attrs)), loc_(std::move(loc)) {
  for (Type& t : resultTypes) addResult(std::move(t));
}

Value* Op::addResult(Type type, std::string name) {
  auto v = std::make_unique<Value>(std::move(type), std::move(name));
  v->definingOp_ = this;
  v->index_ = static_cast<int>(results_.size());
  results_.push_back(std::move(v));
  return results_.back().get();
}

Region& Op::addRegion() {
  regions_.push_back(std::make_unique<Region>());
  regions_.back()->parentOp_ = this;
  return *regions_.back();
}

void Op::walk(const std::function<void(Op&)>& f) {
  f(*this);
  for (auto& r : regions_) ir::walk(*r, f);
}

void walk(Region& region, const std::function<void(Op&)>& f) {
  // Index loop: f may append to the region (never remove) while we walk.
  for (size_t i = 0; i < region.ops().size(); ++i) region.ops()[i]->walk(f);
}

size_t Region::indexOf(const Op* op) const {
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].get() == op) return i;
  return ops_.size();
}

bool isDefinedInside(const Value* v, const Op* op) {
  const Region* r = v->definingOp() ? v->definingOp()->parentRegion() : v->ownerRegion();
  for (; r && r->parentOp(); r = r->parentOp()->parentRegion())
    if (r->parentOp() == op) return true;
  return false;
}

void replaceAllUsesIn(Region& region, Value* from, Value* to) {
  walk(region, [&](Op& op) {
    for (size_t i = 0; i < op.numOperands(); ++i)
      if (op.operand(i) == from) op.setOperand(i, to);
  });
}

const Op* fusedHead(const Op& op) {
  if (op.kind() != OpKind::Fused || op.numRegions() != 1 || op.region(0).size() == 0) return nullptr;
  const Op& first = *op.region(0).ops().front();
  return first.kind() == OpKind::Conv2d || first.kind() == OpKind::Linear ? &first : nullptr;
}

}  // namespace cocktail::ir
