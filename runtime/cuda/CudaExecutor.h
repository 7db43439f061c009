//===- runtime/cuda/CudaExecutor.h - Running a CUDA artifact on the GPU ---------------------===//
//
// An Executor over a CUDA artifact: the module regenerated from the
// scheduled program (and checked against the stored source), the kernels
// loaded on the GPU (CudaDevice), the host plan run by PlanRunner. Not yet
// run on a GPU (see docs/cuda.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include "runtime/Artifact.h"
#include "runtime/Executor.h"

namespace cocktail::runtime::cuda {

/// Fails clearly where there is no GPU or the artifact has no CUDA code.
ir::Expected<std::unique_ptr<Executor>> createCudaExecutor(const Artifact& artifact);

}  // namespace cocktail::runtime::cuda
