//===- passes/PassManager.cpp ----------------------------------------------------------===//
#include <ostream>

#include <fmt/format.h>

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/BranchSplit.h"
#include "passes/Canonicalize.h"
#include "passes/CommonSubexpressionElimination.h"
#include "passes/ControlFlowPlacement.h"
#include "passes/DeadCodeElimination.h"
#include "passes/ElementwiseFusion.h"
#include "passes/EpilogueFusion.h"
#include "passes/LayerInterchange.h"
#include "passes/LoopInvariantCodeMotion.h"
#include "passes/MemoryPlanning.h"
#include "passes/Pass.h"
#include "passes/ShapeInference.h"
#include "passes/StepBatching.h"
#include "passes/TaskPartition.h"

namespace cocktail::passes {

namespace {
struct Registration {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<Pass>(const TargetModel&)> create;
};

const std::vector<Registration>& registry() {
  // One line per pass; the order is the order of --list-passes.
  static const std::vector<Registration> passes = [] {
    std::vector<Registration> r;
    auto add = [&](std::function<std::unique_ptr<Pass>(const TargetModel&)> make) {
      auto p = make(TargetModel::cpu());
      r.push_back({std::string(p->name()), std::string(p->description()), std::move(make)});
    };
    auto targetFree = [&](std::unique_ptr<Pass> (*make)()) { add([make](const TargetModel&) { return make(); }); };
    targetFree(createDeadCodeEliminationPass);
    targetFree(createShapeInferencePass);
    targetFree(createCanonicalizePass);
    targetFree(createLoopInvariantCodeMotionPass);
    targetFree(createCommonSubexpressionEliminationPass);
    targetFree(createLayerInterchangePass);
    targetFree(createStepBatchingPass);
    targetFree(createBranchSplitPass);
    targetFree(createElementwiseFusionPass);
    targetFree(createEpilogueFusionPass);
    add(createControlFlowPlacementPass);
    add(createTaskPartitionPass);
    add(createMemoryPlanningPass);
    return r;
  }();
  return passes;
}
}  // namespace

std::unique_ptr<Pass> createPass(std::string_view name, const TargetModel& target) {
  for (const Registration& r : registry())
    if (r.name == name) return r.create(target);
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> registeredPasses() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Registration& r : registry()) out.emplace_back(r.name, r.description);
  return out;
}

ir::Status PassManager::addPipeline(std::string_view names, const TargetModel& target) {
  size_t start = 0;
  while (start <= names.size()) {
    size_t comma = names.find(',', start);
    std::string_view name = names.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!name.empty()) {
      auto pass = createPass(name, target);
      if (!pass) {
        std::string known;
        for (const auto& [n, d] : registeredPasses()) known += (known.empty() ? "" : ", ") + n;
        return ir::Status::error(fmt::format("unknown pass '{}' (known passes: {})", name, known));
      }
      add(std::move(pass));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ir::Status::success();
}

ir::Status PassManager::run(ir::Program& program) {
  std::vector<std::pair<std::string, double>> times;
  for (auto& pass : passes_) {
    auto t0 = std::chrono::steady_clock::now();
    ir::Status st = pass->run(program);
    times.emplace_back(std::string(pass->name()),
                       std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!st.ok()) return st;
    if (options_.verifyEachPass) {
      ir::Status v = ir::verifyProgram(program);
      if (!v.ok()) {
        ir::Status bug = ir::Status::error(
            fmt::format("internal error: pass '{}' produced an invalid program", pass->name()), {}, ir::ErrorKind::Internal);
        bug.append(v);
        return bug;
      }
    }
    if (options_.printAfterAll && options_.dump)
      *options_.dump << "// ----- after " << pass->name() << " -----\n" << ir::printProgram(program);
  }
  if (options_.timing && options_.dump)
    for (const auto& [name, ms] : times) *options_.dump << fmt::format("// pass {:<24} {:8.3f} ms\n", name, ms);
  return ir::Status::success();
}

}  // namespace cocktail::passes
