//===- runtime/CpuExecutor.h - The uProgram on the CPU ----------------------------===//
//
// Runs a verified Program with the CPU kernels. The program is first
// flattened into instructions whose operands are indices into a frame of
// RuntimeValues, so running looks values up by index, not by hashing. Loop
// and if bodies are nested instruction lists; loop conditions are evaluated
// in place, as they will be on the device.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include "ir/Program.h"
#include "runtime/Executor.h"

namespace cocktail::runtime {

/// Creates a CPU executor. Weight bytes must be present in `program`.
/// `islands` may be null when the program has no island op.
ir::Expected<std::unique_ptr<Executor>> createCpuExecutor(std::shared_ptr<const ir::Program> program,
                                                          IslandFactory islands);

}  // namespace cocktail::runtime
