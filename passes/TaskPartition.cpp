//===- passes/TaskPartition.cpp -----------------------------------------------------===//
#include "passes/TaskPartition.h"

#include <algorithm>
#include <cmath>

#include "ir/Schedule.h"
#include "passes/CostModel.h"

namespace cocktail::passes {

using ir::Op;
using ir::OpKind;

namespace {

bool isTileLocal(const Op& op) {
  // A headed fused op's tile needs all of its contraction's input.
  if (op.kind() == OpKind::Fused) return !ir::fusedHead(op);
  return ir::isElementwise(op.kind());
}

class TaskPartition final : public Pass {
 public:
  explicit TaskPartition(TargetModel target) : t_(std::move(target)) {}
  std::string_view name() const override { return "partition"; }
  std::string_view description() const override {
    return "split each uOperator into uTasks for the target; per-tile counters or barriers between them";
  }
  ir::Status run(ir::Program& program) override {
    program_ = &program;
    partitionIn(program.body());
    return ir::Status::success();
  }

 private:
  void partitionIn(ir::Region& region) {
    for (const auto& opPtr : region.ops()) {
      Op& op = *opPtr;
      if (op.kind() != OpKind::Fused)
        for (const auto& r : op.regions()) partitionIn(*r);
      if (!isUOperator(op)) continue;
      const int64_t elems = std::max<int64_t>(boundElements(*op.result(), *program_), 1);
      const double flops = opWork(op, *program_).flops;
      // A tile does at least minTileElements elements' worth of simple work.
      const double minFlops = static_cast<double>(t_.minTileElements) * 16;
      int64_t tiles = static_cast<int64_t>(std::ceil(flops / minFlops));
      tiles = std::clamp<int64_t>(tiles, 1, std::min<int64_t>(t_.workers, elems));
      ir::setPartition(op, ir::Partition{tiles, (elems + tiles - 1) / tiles, syncOf(op, region)});
    }
  }

  ir::Sync syncOf(const Op& op, const ir::Region& region) const {
    bool anyProducer = false;
    for (const ir::Value* v : op.operands()) {
      // A view (the LSTM's chunk of the gates) is no kernel: the producer is
      // what it views, and its elements are not the consumer's tile.
      const Op* p = v->definingOp();
      bool throughView = false;
      while (p && isView(*p)) {
        p = p->operand(0)->definingOp();
        throughView = true;
      }
      if (!p || p->parentRegion() != &region || !isUOperator(*p)) continue;
      anyProducer = true;
      // A tile-local consumer reads element e of a producer of its own shape
      // at e, so each of its tiles needs only the producer tiles that cover
      // the same elements, whatever the producer's tiling: a counter per
      // producer tile (a block barrier where the tilings match). Otherwise
      // every producer tile may be needed: a barrier.
      const bool sameElements = !throughView && v->type() == op.result()->type() &&
                                p->result()->type() == op.result()->type();
      if (!isTileLocal(op) || !sameElements) return ir::Sync::Barrier;
    }
    return anyProducer ? ir::Sync::Counter : ir::Sync::None;
  }

  TargetModel t_;
  const ir::Program* program_ = nullptr;
};

}  // namespace

std::unique_ptr<Pass> createTaskPartitionPass(TargetModel target) {
  return std::make_unique<TaskPartition>(std::move(target));
}

}  // namespace cocktail::passes
