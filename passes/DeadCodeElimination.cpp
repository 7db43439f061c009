//===- passes/DeadCodeElimination.cpp ---------------------------------------------------===//
#include "passes/DeadCodeElimination.h"

#include <string>
#include <unordered_map>

namespace cocktail::passes {

namespace {

using UseCounts = std::unordered_map<const ir::Value*, int>;

void countUses(ir::Region& region, UseCounts& uses) {
  ir::walk(region, [&](ir::Op& op) {
    for (const ir::Value* v : op.operands()) ++uses[v];
  });
}

bool hasSideEffects(const ir::Op& op) {
  // Terminators carry values out; an island runs TorchScript that may raise.
  return op.info().opClass == ir::OpClass::Terminator || op.kind() == ir::OpKind::Island ||
         op.kind() == ir::OpKind::Raise;
}

bool containsSideEffects(const ir::Op& op) {
  for (const auto& r : op.regions())
    for (const auto& inner : r->ops())
      if ((hasSideEffects(*inner) && inner->info().opClass != ir::OpClass::Terminator) || containsSideEffects(*inner))
        return true;
  return false;
}

bool isDead(const ir::Op& op, const UseCounts& uses) {
  if (hasSideEffects(op) || containsSideEffects(op)) return false;
  for (const auto& r : op.results()) {
    auto it = uses.find(r.get());
    if (it != uses.end() && it->second > 0) return false;
  }
  return true;
}

void dropUses(const ir::Op& op, UseCounts& uses) {
  for (const ir::Value* v : op.operands()) --uses[v];
  for (const auto& r : op.regions())
    for (const auto& inner : r->ops()) dropUses(*inner, uses);
}

/// Sweeps a region backwards so that an op whose only user was just removed
/// goes in the same sweep.
bool sweep(ir::Region& region, UseCounts& uses) {
  bool changed = false;
  for (size_t i = region.size(); i-- > 0;) {
    ir::Op& op = *region.ops()[i];
    for (const auto& r : op.regions()) changed |= sweep(*r, uses);
    if (isDead(op, uses)) {
      dropUses(op, uses);
      region.take(i);
      changed = true;
    }
  }
  return changed;
}

class DeadCodeElimination final : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  std::string_view description() const override { return "remove ops whose results are unused"; }
  ir::Status run(ir::Program& program) override {
    UseCounts uses;
    countUses(program.body(), uses);
    while (sweep(program.body(), uses)) {
    }
    // Weights no op reads any more need not travel in the artifact.
    std::unordered_map<std::string, bool> used;
    ir::walk(program.body(), [&](ir::Op& op) {
      if (op.kind() == ir::OpKind::Weight) used[op.attrs().getString("name").value_or("")] = true;
    });
    auto& weights = program.weights();
    std::erase_if(weights, [&](const ir::WeightDecl& w) { return !used.count(w.name); });
    return ir::Status::success();
  }
};

}  // namespace

std::unique_ptr<Pass> createDeadCodeEliminationPass() { return std::make_unique<DeadCodeElimination>(); }

}  // namespace cocktail::passes
