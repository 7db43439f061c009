//===- passes/EpilogueFusion.cpp ----------------------------------------------------===//
//
// Runs after fuse-elementwise, so a chain after the contraction is already
// one `fused` op. The merged op takes the head's operands and the reader's
// other inputs, and stands where the reader stood: everything it reads is
// defined before the head, or before the reader. Only a head whose result
// has exactly one use moves: its value no longer exists outside the body.
//
//===----------------------------------------------------------------------===//
#include "passes/EpilogueFusion.h"

#include <algorithm>
#include <unordered_map>

#include "passes/ElementwiseFusion.h"

namespace cocktail::passes {

using ir::DType;
using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

bool isHead(const Op& op) {
  if (op.kind() != OpKind::Conv2d && op.kind() != OpKind::Linear) return false;
  const ir::Type& t = op.result()->type();
  if (!t.isTensor() || !t.hasDType() || t.dtype() != DType::F32 || !t.hasRank()) return false;
  // Static dims only: the executors size a fused head when they load it
  // (runtime/FusedElementwise.cpp), so a symbolic batch keeps the head on
  // its own rather than make an artifact that cannot load.
  return std::all_of(t.dims().begin(), t.dims().end(), [](const ir::Dim& d) { return d.isConstant(); });
}

/// A reader the head can join: a one-result fused op that is not headed
/// yet, or one fusible elementwise op.
bool isEpilogue(const Op& op) {
  if (op.kind() == OpKind::Fused) return op.numResults() == 1 && !ir::fusedHead(op);
  return isFusibleElementwise(op);
}

class EpilogueFusion final : public Pass {
 public:
  std::string_view name() const override { return "fuse-epilogue"; }
  std::string_view description() const override {
    return "run the elementwise ops after a conv2d or linear in its epilogue, as one fused uOperator";
  }

  ir::Status run(ir::Program& program) override {
    ir::walk(program.body(), [&](Op& op) {
      for (const Value* v : op.operands()) ++uses_[v];
    });
    fuseIn(program.body());
    return ir::Status::success();
  }

 private:
  void fuseIn(ir::Region& region) {
    for (const auto& op : region.ops())
      if (op->kind() != OpKind::Fused)
        for (const auto& r : op->regions()) fuseIn(*r);
    // Readers first collected, then merged: merging edits the region.
    std::vector<std::pair<Op*, size_t>> merges;
    for (const auto& opPtr : region.ops()) {
      Op& reader = *opPtr;
      if (!isEpilogue(reader)) continue;
      for (size_t i = 0; i < reader.numOperands(); ++i) {
        Value* v = reader.operand(i);
        Op* head = v->definingOp();
        if (!head || head->parentRegion() != &region || !isHead(*head) || uses_[v] != 1) continue;
        if (head->result()->type() != reader.result()->type()) continue;  // the epilogue keeps the head's shape
        merges.emplace_back(&reader, i);
        break;
      }
    }
    for (const auto& [reader, index] : merges) merge(region, *reader, index);
  }

  /// Replaces `reader` and the head of its operand #`index` by one fused op.
  static void merge(ir::Region& region, Op& reader, size_t index) {
    Value* headValue = reader.operand(index);
    Op& head = *headValue->definingOp();

    std::vector<Value*> inputs(head.operands().begin(), head.operands().end());
    for (size_t i = 0; i < reader.numOperands(); ++i)
      if (i != index) inputs.push_back(reader.operand(i));
    auto fused = std::make_unique<Op>(OpKind::Fused, inputs, std::vector<ir::Type>{reader.result()->type()},
                                      ir::Attributes{}, reader.loc());
    fused->result()->setName(reader.result()->name());
    ir::Region& body = fused->addRegion();
    std::vector<Value*> args;
    for (Value* in : inputs) args.push_back(body.addArgument(in->type(), in->name()));

    const size_t headAt = region.indexOf(&head);
    std::unique_ptr<Op> movedHead = region.take(headAt);
    for (size_t i = 0; i < movedHead->numOperands(); ++i) movedHead->setOperand(i, args[i]);
    Value* headResult = movedHead->result();
    body.append(std::move(movedHead));

    // The reader's inputs, as the new body sees them: the head's result for
    // its operand #index, an argument for each of the others.
    std::vector<Value*> readerInputs;
    for (size_t i = 0, next = head.numOperands(); i < reader.numOperands(); ++i)
      readerInputs.push_back(i == index ? headResult : args[next++]);

    const size_t readerAt = region.indexOf(&reader);
    std::unique_ptr<Op> taken = region.take(readerAt);
    Value* oldResult = taken->result();
    if (taken->kind() == OpKind::Fused) {
      ir::Region& old = taken->region(0);
      for (size_t a = 0; a < old.numArguments(); ++a)
        ir::replaceAllUsesIn(old, old.argument(a), readerInputs[a]);
      while (old.size()) body.append(old.take(0));
    } else {
      for (size_t i = 0; i < taken->numOperands(); ++i) taken->setOperand(i, readerInputs[i]);
      Value* r = taken->result();
      body.append(std::move(taken));
      body.append(std::make_unique<Op>(OpKind::Yield, std::vector<Value*>{r}, std::vector<ir::Type>{}));
    }
    // Readers of the old result read the fused op's, outside its body only
    // (inside, a moved reader still defines the old one): so before it is in.
    ir::replaceAllUsesIn(region, oldResult, fused->result());
    region.insert(readerAt, std::move(fused));
  }

  std::unordered_map<const Value*, int> uses_;
};

}  // namespace

std::unique_ptr<Pass> createEpilogueFusionPass() { return std::make_unique<EpilogueFusion>(); }

}  // namespace cocktail::passes
