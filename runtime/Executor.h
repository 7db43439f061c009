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
#include "runtime/RuntimeValue.h"
#include "runtime/Signature.h"

namespace cocktail::runtime {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual const Signature& signature() const = 0;
  /// "cpu", "cuda:0".
  virtual std::string device() const = 0;
  virtual ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs) = 0;
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
