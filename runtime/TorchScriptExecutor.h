//===- runtime/TorchScriptExecutor.h - A model.pt on the TorchScript interpreter ------===//
//
// The uncompiled path: an Executor that runs a TorchScript file's method with
// LibTorch's interpreter, the way Triton's PyTorch backend runs a model.pt
// (torch::jit::load, the profiling graph executor with optimization on,
// inference mode and no grad). cocktail-serve uses it for models whose config
// says `cocktail.backend: torchscript`, so that the compiled executor and the
// interpreter can be compared behind the same server.
//
// Its signature is the input specs the model would be compiled with, so a
// request is checked exactly as for a compiled model before it runs. This
// header includes no LibTorch header.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/InputSpec.h"
#include "ir/Status.h"
#include "runtime/Executor.h"

namespace cocktail::runtime {

struct TorchScriptOptions {
  std::string method = "forward";
  /// torch::jit::setGraphExecutorOptimize around every run (Triton's
  /// DISABLE_OPTIMIZED_EXECUTION unset).
  bool optimize = true;
  /// c10::InferenceMode around every run (Triton's INFERENCE_MODE default).
  bool inferenceMode = true;
};

/// Loads the TorchScript file at `modelPath` (one module per executor, as a
/// Triton instance has its own). `inputs` are matched with the method's
/// arguments by name, every argument needs one and its kind must fit the
/// argument's type (a tensor spec for Tensor, i64 for int, f64 for float, i1
/// for bool); in the method's argument order they become the signature. The
/// outputs are the method's result with tuples flattened: a model must return
/// a tensor, a number or (nested) tuples of them.
ir::Expected<std::unique_ptr<Executor>> createTorchScriptExecutor(const std::string& modelPath,
                                                                  const std::vector<ir::InputSpec>& inputs,
                                                                  const std::vector<ir::Symbol>& symbols,
                                                                  const TorchScriptOptions& options = {});

}  // namespace cocktail::runtime
