//===- passes/CommonSubexpressionElimination.cpp ----------------------------------===//
#include "passes/CommonSubexpressionElimination.h"

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

bool isPureComputation(const Op& op) {
  if (!op.regions().empty() || op.numResults() == 0) return false;
  if (op.info().opClass == ir::OpClass::Terminator) return false;
  switch (op.kind()) {
    case OpKind::Island:  // TorchScript, which may have effects of its own
    case OpKind::Raise:
    case OpKind::Undef:  // a placeholder per path, not a value
      return false;
    default:
      return true;
  }
}

size_t hashOf(const Op& op) {
  size_t h = std::hash<int>{}(static_cast<int>(op.kind()));
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  for (const Value* v : op.operands()) mix(std::hash<const Value*>{}(v));
  for (const auto& [name, value] : op.attrs().all()) {
    mix(std::hash<std::string>{}(name));
    mix(std::hash<std::string>{}(ir::attrValueToString(value)));
  }
  mix(op.numResults());
  return h;
}

bool computesTheSame(const Op& a, const Op& b) {
  if (a.kind() != b.kind() || a.operands() != b.operands() || a.numResults() != b.numResults() ||
      !(a.attrs() == b.attrs()))
    return false;
  for (size_t i = 0; i < a.numResults(); ++i)
    if (!(a.results()[i]->type() == b.results()[i]->type())) return false;
  return true;
}

class CommonSubexpressionElimination final : public Pass {
 public:
  std::string_view name() const override { return "cse"; }
  std::string_view description() const override { return "replace an op that recomputes an earlier op's value"; }

  ir::Status run(ir::Program& program) override {
    replacement_.clear();
    scopes_.clear();
    visit(program.body());
    return ir::Status::success();
  }

 private:
  using Scope = std::unordered_multimap<size_t, const Op*>;

  /// Uses follow definitions in walk order, so one pass renames every use.
  void visit(ir::Region& region) {
    scopes_.emplace_back();
    for (const auto& op : region.ops()) {
      for (size_t i = 0; i < op->numOperands(); ++i)
        if (auto it = replacement_.find(op->operand(i)); it != replacement_.end()) op->setOperand(i, it->second);
      for (const auto& inner : op->regions()) visit(*inner);
      if (!isPureComputation(*op)) continue;
      const size_t hash = hashOf(*op);
      if (const Op* earlier = findEarlier(*op, hash)) {
        for (size_t i = 0; i < op->numResults(); ++i)
          replacement_[op->results()[i].get()] = earlier->results()[i].get();
      } else {
        scopes_.back().emplace(hash, op.get());
      }
    }
    scopes_.pop_back();
  }

  const Op* findEarlier(const Op& op, size_t hash) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      auto [first, last] = scope->equal_range(hash);
      for (auto it = first; it != last; ++it)
        if (computesTheSame(*it->second, op)) return it->second;
    }
    return nullptr;
  }

  std::unordered_map<const Value*, Value*> replacement_;
  std::vector<Scope> scopes_;  // the enclosing regions', innermost last
};

}  // namespace

std::unique_ptr<Pass> createCommonSubexpressionEliminationPass() {
  return std::make_unique<CommonSubexpressionElimination>();
}

}  // namespace cocktail::passes
