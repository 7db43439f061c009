//===- runtime/Executor.h - Running a compiled program ----------------------------===//
//
// The interface every backend implements (CPU now, CUDA later). An executor
// is built once per loaded model and runs many inferences; `run` validates
// the inputs against the signature first.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/Status.h"
#include "runtime/RunControl.h"
#include "runtime/RuntimeValue.h"
#include "runtime/Signature.h"

namespace cocktail::runtime {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual const Signature& signature() const = 0;
  /// "cpu", "cuda:0".
  virtual std::string device() const = 0;
  /// Runs one inference. `control` bounds it: a loop over its trip-count
  /// limit is refused, and a deadline or cancellation stops it between loop
  /// steps with an error that says so.
  virtual ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs,
                                                      const RunControl& control) = 0;
  /// An unbounded run (no deadline, no cancellation; the default trip-count limit).
  ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs) {
    return run(inputs, RunControl{});
  }
};

/// Runs a TorchScript island (an op the compiler did not lower) on the host.
class IslandRunner {
 public:
  virtual ~IslandRunner() = default;
  /// Throws std::exception with the interpreter's message on failure.
  virtual std::vector<RuntimeValue> run(const std::vector<RuntimeValue>& inputs) = 0;
};

/// Builds a runner from an island's graph text. Supplied by the LibTorch
/// layer (runtime/TorchInterop.h) so that executors do not depend on it.
using IslandFactory = std::function<std::unique_ptr<IslandRunner>(const std::string& graphText)>;

}  // namespace cocktail::runtime
