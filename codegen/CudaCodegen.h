//===- codegen/CudaCodegen.h - The scheduled uProgram as CUDA C++ ---------------===//
//
// Renders a scheduled program (after `partition`) as one CUDA C++ module:
//
//  - a device region (a loop placed "persistent", an `if` placed "device" at
//    host level) becomes one persistent kernel: every block runs the loop
//    itself, computes its uTasks of each uOperator (task = blockIdx.x;
//    task < tiles; task += gridDim.x) and waits only where data it reads was
//    written by another block since the last grid barrier;
//  - a uOperator of a host region becomes a kernel of its own (grid = tiles),
//    launched by the host plan, which also holds host loops and branches;
//  - shapes and tile sizes are literals; symbolic dims are read from the
//    kernel's argument block (CocktailFrame); loop conditions and branch
//    predicates of device regions are evaluated on the device.
//
// The text uses only what codegen/DevicePrelude.h and the CUDA
// built-ins provide, so that the CPU emulation harness runs it unchanged.
// An op the generator cannot render is an Unsupported error naming the op
// and its source line. What can only fail at run time (an index out of
// range, a model's `raise`) is a check that sets the device error word,
// which the host reads and reports at the op's source line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Program.h"
#include "ir/Status.h"
#include "runtime/cuda/CudaPlan.h"

namespace cocktail::codegen {

// The plan is the runtime's format (the artifact stores it and the runtime
// runs it); the generator writes it, as a compiler writes its target's
// executable format.
using runtime::cuda::BoundaryValue;
using runtime::cuda::BufferRegion;
using runtime::cuda::CudaPlan;
using runtime::cuda::DeviceCheck;
using runtime::cuda::HostScalar;
using runtime::cuda::HostStep;
using runtime::cuda::KernelInfo;

/// Threads per block of every kernel the generator emits (its
/// __launch_bounds__), recorded in each KernelInfo.
inline constexpr int kBlockThreads = 256;

/// What the generator produces: the CUDA C++ text and the plan that runs it.
struct CudaModule {
  std::string source;
  CudaPlan plan;
};

struct CudaCodegenOptions {
  /// Source locations in the comment above each op.
  bool locations = true;
};

/// Generates the module. The program must be scheduled (every uOperator has
/// `tiles`, `tile_elems` and `sync`), with every dim bounded.
ir::Expected<CudaModule> generateCuda(const ir::Program& program, const CudaCodegenOptions& options = {});

}  // namespace cocktail::codegen
