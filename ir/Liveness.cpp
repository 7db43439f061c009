//===- ir/Liveness.cpp ----------------------------------------------------------===//
#include "ir/Liveness.h"

#include <algorithm>

namespace cocktail::ir {

Liveness::Liveness(const Region& body) {
  number(body);
  collectUses(body);
}

void Liveness::number(const Region& region) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    start_[&op] = next_++;
    if (op.kind() != OpKind::Fused)
      for (const auto& r : op.regions()) number(*r);
    end_[&op] = next_ - 1;
  }
}

int Liveness::defPos(const Value* v) const {
  if (const Op* d = v->definingOp()) return end_.at(d);
  const Op* parent = v->ownerRegion() ? v->ownerRegion()->parentOp() : nullptr;
  return parent ? start_.at(parent) : 0;
}

/// Where `user` reading `v` ends v's life: at the user, or at the end of
/// the outermost loop around the user that `v` comes from outside of.
int Liveness::usePos(const Op& user, const Value* v) const {
  int pos = start_.at(&user);
  for (const Region* r = user.parentRegion(); r && r->parentOp(); r = r->parentOp()->parentRegion()) {
    const Op* a = r->parentOp();
    if (a->kind() == OpKind::Loop && !isDefinedInside(v, a)) pos = std::max(pos, end_.at(a));
  }
  return pos;
}

void Liveness::collectUses(const Region& region) {
  for (const auto& opPtr : region.ops()) {
    const Op& op = *opPtr;
    for (const Value* v : op.operands()) {
      int& last = lastUse_.try_emplace(v, defPos(v)).first->second;
      last = std::max(last, usePos(op, v));
    }
    if (op.kind() != OpKind::Fused)
      for (const auto& r : op.regions()) collectUses(*r);
  }
}

int Liveness::lastUse(const Value* v) const {
  auto it = lastUse_.find(v);
  return it == lastUse_.end() ? defPos(v) : it->second;
}

std::pair<int, int> Liveness::bufferLifetime(std::span<const Value* const> members) const {
  int start = next_, end = 0;
  for (const Value* m : members) {
    start = std::min(start, defPos(m));
    end = std::max(end, lastUse(m));
  }
  for (const Value* m : members) {
    // A carried buffer holds data from the loop's start to its end.
    if (const Op* loop = m->ownerRegion() ? m->ownerRegion()->parentOp() : nullptr) {
      start = std::min(start, start_.at(loop));
      end = std::max(end, end_.at(loop));
    }
    // An op with regions (an if) fills its results from inside them.
    if (const Op* d = m->definingOp(); d && d->numRegions() && d->kind() != OpKind::Fused)
      start = std::min(start, start_.at(d));
  }
  return {start, end};
}

}  // namespace cocktail::ir
