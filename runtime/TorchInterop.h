//===- runtime/TorchInterop.h - Where the runtime meets LibTorch ---------------------===//
//
// Everything that crosses between Cocktail's runtime and PyTorch: reading
// inputs saved with torch.save, writing outputs torch.load reads, running
// TorchScript islands, and running the original model as a reference. This
// header includes no LibTorch header; runtime/AtenTensor.h has the tensor
// conversions for code that already includes ATen.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/Status.h"
#include "runtime/Executor.h"
#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

/// What reading a values file may allocate beyond the file's own size,
/// checked before the allocation: a stride-0 (expanded) tensor may have any
/// shape over a one-element storage, and is made dense to be read.
struct ValuesFileLimits {
  /// Bytes of one tensor once contiguous, where that is more than its storage.
  uint64_t maxTensorBytes = 0;
  /// Where the limit comes from, for the error ("this machine's memory").
  std::string maxTensorBytesReason;

  /// The machine's physical memory: nothing larger can be read.
  static ValuesFileLimits ofMachine();
};

/// Reads a list (or tuple) of tensors and numbers saved by Python's
/// `torch.save([...], path)`. Nothing in the file is trusted: a corrupt or
/// hand-made file is an error naming what is wrong, within `limits`.
ir::Expected<std::vector<RuntimeValue>> loadValuesFile(const std::string& path,
                                                       const ValuesFileLimits& limits = ValuesFileLimits::ofMachine());

/// The same from the file's bytes; `path` names it in errors.
ir::Expected<std::vector<RuntimeValue>> parseValuesFile(const std::vector<char>& bytes, const std::string& path,
                                                        const ValuesFileLimits& limits = ValuesFileLimits::ofMachine());

/// Writes values so that Python's `torch.load(path)` returns a list.
ir::Status saveValuesFile(const std::vector<RuntimeValue>& values, const std::string& path);

/// Islands run by the TorchScript interpreter.
IslandFactory torchScriptIslands();

/// Runs `method` of the TorchScript model at `modelPath` on `inputs` with the
/// interpreter; tuple outputs are flattened and None outputs dropped, as the
/// compiler drops them. The inputs are copied first, so
/// a model that writes into its inputs does not change the caller's.
ir::Expected<std::vector<RuntimeValue>> runTorchScript(const std::string& modelPath,
                                                       const std::vector<RuntimeValue>& inputs,
                                                       const std::string& method = "forward");

/// Max abs and max relative difference between two lists of outputs, with
/// the relative error taken against the largest reference magnitude.
struct Difference {
  double maxAbs = 0;
  double maxRel = 0;
  std::string mismatch;  // non-empty when counts, kinds, dtypes or shapes differ
};
Difference compareOutputs(const std::vector<RuntimeValue>& actual, const std::vector<RuntimeValue>& expected);

}  // namespace cocktail::runtime
