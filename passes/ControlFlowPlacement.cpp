//===- passes/ControlFlowPlacement.cpp ----------------------------------------------===//
#include "passes/ControlFlowPlacement.h"

#include <map>
#include <unordered_set>

#include <fmt/format.h>

#include "ir/Schedule.h"
#include "passes/CostModel.h"

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;

namespace {

std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / (1 << 20)); }

/// The TorchScript op name of the first island inside `region`, or "".
std::string firstIsland(const ir::Region& region) {
  for (const auto& op : region.ops()) {
    if (op->kind() == OpKind::Island) return op->attrs().getString("op").value_or("an island");
    for (const auto& r : op->regions())
      if (auto s = firstIsland(*r); !s.empty()) return s;
  }
  return {};
}

/// The weights that ops inside `region` read, by name.
void weightsReadIn(const ir::Region& region, std::map<std::string, const Op*>& out) {
  for (const auto& op : region.ops()) {
    for (const ir::Value* v : op->operands()) {
      const Op* def = v->definingOp();
      if (def && def->kind() == OpKind::Weight) out.emplace(def->attrs().getString("name").value_or("?"), def);
    }
    for (const auto& r : op->regions()) weightsReadIn(*r, out);
  }
}

class ControlFlowPlacement final : public Pass {
 public:
  explicit ControlFlowPlacement(TargetModel target) : t_(std::move(target)) {}
  std::string_view name() const override { return "place-control-flow"; }
  std::string_view description() const override {
    return "decide per loop and branch: a persistent region on the device, or per step from the host";
  }
  ir::Status run(ir::Program& program) override {
    program_ = &program;
    placeIn(program.body(), /*insidePersistent=*/false);
    return ir::Status::success();
  }

 private:
  void placeIn(ir::Region& region, bool insidePersistent) {
    for (const auto& opPtr : region.ops()) {
      Op& op = *opPtr;
      if (op.kind() == OpKind::Loop) {
        bool persistent = placeLoop(op, insidePersistent);
        placeIn(op.region(0), persistent);
      } else if (op.kind() == OpKind::If) {
        placeIf(op, insidePersistent);
        bool device = ir::placement(op) == ir::Placement::Device;
        placeIn(op.region(0), insidePersistent && device);
        placeIn(op.region(1), insidePersistent && device);
      }
    }
  }

  bool placeLoop(Op& op, bool insidePersistent) {
    const ir::Region& body = op.region(0);
    auto decide = [&](bool persistent, std::string reason) {
      ir::setPlacement(op, persistent ? ir::Placement::Persistent : ir::Placement::Host, std::move(reason));
      return persistent;
    };
    if (std::string island = firstIsland(body); !island.empty())
      return decide(false, fmt::format("its body runs {} as a TorchScript island, which needs the host", island));
    const int ops = countUOperators(body);
    const Work estimate = regionWork(body, *program_);
    const double work = estimate.micros(t_);
    // "at least" where a `?` dim or a run-time trip count was counted once.
    const std::string about = estimate.lowerBound ? "at least ~" : "~";
    if (insidePersistent) {
      decide(true, fmt::format("inside a persistent loop: {} uOperators per iteration, barriers only", ops));
      return true;
    }
    // A host-driven loop launches every uOperator each iteration and reads
    // the condition back; a persistent one pays a barrier per uOperator.
    const double host = ops * t_.launchUs + t_.launchUs;
    const double device = ops * t_.barrierUs;
    if (host - device > 0.05 * work) {
      decide(true, fmt::format("{} uOperators per iteration: launching them from the host costs {:.1f} us per "
                               "iteration against {:.1f} us of barriers, next to {}{:.1f} us of work",
                               ops, host, device, about, work));
      placeResidency(op);
      return true;
    }
    return decide(false, fmt::format("{}{:.1f} us of work per iteration dwarfs the {:.1f} us of launching its {} "
                                     "uOperators from the host", about, work, host, ops));
  }

  void placeResidency(Op& loop) {
    std::map<std::string, const Op*> weights;
    weightsReadIn(loop.region(0), weights);
    double total = 0;
    std::vector<std::string> names;
    std::string listed;
    for (const auto& [name, def] : weights) {
      total += static_cast<double>(boundElements(*def->result(), *program_) *
                                   (def->result()->type().hasDType() ? ir::dtypeSize(def->result()->type().dtype()) : 4));
      names.push_back(name);
      listed += (listed.empty() ? "@" : ", @") + name;
    }
    if (weights.empty()) return;
    if (total <= static_cast<double>(t_.onChipBytes)) {
      ir::setResidency(loop, names, fmt::format("{} of weights fit the {} on-chip budget of {}", mib(total),
                                                mib(static_cast<double>(t_.onChipBytes)), t_.name));
    } else {
      ir::setResidency(loop, {},
                       fmt::format("{} of weights ({}) exceed the {} on-chip budget of {}: streamed each iteration",
                                   mib(total), listed, mib(static_cast<double>(t_.onChipBytes)), t_.name));
    }
  }

  void placeIf(Op& op, bool insidePersistent) {
    auto decide = [&](bool device, std::string reason) {
      ir::setPlacement(op, device ? ir::Placement::Device : ir::Placement::Host, std::move(reason));
    };
    for (int i = 0; i < 2; ++i)
      if (std::string island = firstIsland(op.region(i)); !island.empty())
        return decide(false, fmt::format("a branch runs {} as a TorchScript island, which needs the host", island));
    if (insidePersistent)
      return decide(true, "the predicate is evaluated inside the persistent loop, where its data is");
    return decide(true, "the predicate is read where it was computed; the branch taken starts without a round trip "
                        "to the host");
  }

  TargetModel t_;
  const ir::Program* program_ = nullptr;
};

}  // namespace

std::unique_ptr<Pass> createControlFlowPlacementPass(TargetModel target) {
  return std::make_unique<ControlFlowPlacement>(std::move(target));
}

}  // namespace cocktail::passes
