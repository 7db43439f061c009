//===- passes/Pass.h - Program transformations and the pass manager ------------===//
//
// A pass rewrites a Program in place. Passes register themselves by name
// (`dce`, ...) so that any pipeline can be run on IR text by `cocktail-opt
// --passes=a,b` and tested with FileCheck. The pass manager verifies the
// program after every pass (in debug builds and whenever asked), can print
// it after each one, and times each pass.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "ir/Program.h"
#include "ir/Status.h"
#include "passes/TargetModel.h"

namespace cocktail::passes {

class Pass {
 public:
  virtual ~Pass() = default;
  /// The command-line name: "dce".
  virtual std::string_view name() const = 0;
  /// One line for `--help` and `--list-passes`.
  virtual std::string_view description() const = 0;
  /// Rewrites the program; a Status error is a user error (the program
  /// cannot be compiled), not a bug.
  virtual ir::Status run(ir::Program& program) = 0;
};

/// Creates a registered pass by name, made for `target` where it weighs one
/// (placement, partition, memory planning); null for an unknown name.
std::unique_ptr<Pass> createPass(std::string_view name, const TargetModel& target = TargetModel::cpu());
/// Every registered pass: (name, description).
std::vector<std::pair<std::string, std::string>> registeredPasses();

/// The compiler's pipelines, as PassManager::addPipeline takes them: lowering
/// runs at every optimization level, scheduling at -O2.
inline constexpr std::string_view kLoweringPipeline = "dce,shape-inference";
inline constexpr std::string_view kSchedulingPipeline =
    "canonicalize,licm,cse,dce,interchange-layers,batch-steps,dce,branch-split,fuse-elementwise,fuse-epilogue,place-"
    "control-flow,partition,plan-memory";

struct PassManagerOptions {
  bool verifyEachPass =
#ifdef NDEBUG
      false;
#else
      true;
#endif
  /// Print the program to `dump` after every pass.
  bool printAfterAll = false;
  /// Print each pass's time to `dump` at the end of run().
  bool timing = false;
  std::ostream* dump = nullptr;
};

class PassManager {
 public:
  explicit PassManager(PassManagerOptions options = {}) : options_(options) {}

  void add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  /// Adds passes from a comma-separated list of names, made for `target`;
  /// the error names an unknown pass and lists the known ones.
  ir::Status addPipeline(std::string_view commaSeparatedNames, const TargetModel& target = TargetModel::cpu());

  /// Runs every pass in order; stops at the first failing pass or, when
  /// verifying, at the first pass that leaves the program invalid.
  ir::Status run(ir::Program& program);

 private:
  PassManagerOptions options_;
  std::vector<std::unique_ptr<Pass>> passes_;
};

}  // namespace cocktail::passes
