//===- runtime/cuda/PlanRunner.h - The host side of a generated CUDA module ---------------===//
//
// Runs a CudaPlan's host steps against a KernelDevice: binds the symbols
// from the inputs' shapes, copies inputs into the arena, launches kernels in
// plan order (host loops and branches decided from slots the kernels
// stored), and reads the outputs back with their runtime dims. A check a
// kernel failed (an index out of range, a model's `raise`) is reported from
// the device error word. The device
// is abstract so that the CUDA runtime (on a GPU) and the CPU emulation
// harness (tests/cuda_emu) drive the kernels through the same code.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/Program.h"
#include "ir/Status.h"
#include "runtime/RuntimeValue.h"
#include "runtime/Signature.h"
#include "runtime/cuda/CudaPlan.h"

namespace cocktail::runtime::cuda {

class KernelDevice {
 public:
  virtual ~KernelDevice() = default;
  /// For messages and the executor's device(): "cuda:0 (NVIDIA H100 ..., sm_90, cubin)".
  virtual std::string description() const = 0;
  /// The arena's address as kernels see it (the frame carries it).
  virtual char* arena() = 0;
  virtual ir::Status write(int64_t offset, const void* src, int64_t bytes) = 0;
  virtual ir::Status read(int64_t offset, void* dst, int64_t bytes) = 0;
  /// Launches `kernel` of the plan with `grid` blocks; 0 means as
  /// many as can be co-resident (persistent and copy kernels).
  virtual ir::Status launch(const KernelInfo& kernel, int64_t grid, const std::vector<char>& frame) = 0;
};

class PlanRunner {
 public:
  /// `device` must have an arena of plan.arenaBytes bytes.
  PlanRunner(const CudaPlan& plan, const ir::Program& program, KernelDevice& device);

  /// Copies the weights into the arena and zeroes the barrier; once.
  ir::Status prepare();
  ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs);

 private:
  ir::Status runSteps(const std::vector<HostStep>& steps);
  ir::Status launch(int kernel);
  ir::Expected<int64_t> value(const HostScalar& s);
  ir::Expected<int64_t> readSlot(int64_t slot);
  ir::Status writeSlot(int64_t slot, int64_t bits);
  /// The check a kernel reported failed through the device error word, as
  /// the CPU executor reports the op (a user error at its source line);
  /// success when none did. Read before the host trusts a slot, and at the end.
  ir::Status deviceError();
  std::vector<char> frame() const;

  const CudaPlan& plan_;
  const ir::Program& program_;
  KernelDevice& device_;
  Signature signature_;
  std::vector<int64_t> symbols_, loopIndices_;
};

}  // namespace cocktail::runtime::cuda
