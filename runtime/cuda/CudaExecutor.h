//===- runtime/cuda/CudaExecutor.h - Running a CUDA artifact on the GPU ---------------------===//
//
// An Executor over a CUDA artifact on a GPU: the kernels the artifact stores
// loaded on it (CudaDevice), its host plan run by PlanRunner (PlanExecutor.h).
// Nothing is generated here: the plan comes from the artifact, checked when
// it loaded.
// Not yet run on a GPU (see docs/cuda.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include "runtime/Artifact.h"
#include "runtime/Executor.h"

namespace cocktail::runtime::cuda {

/// Runs `artifact` on GPU `gpu` (a CUDA device ordinal). Fails clearly where
/// there is no GPU, no GPU `gpu`, or the artifact has no CUDA code.
ir::Expected<std::unique_ptr<Executor>> createCudaExecutor(const Artifact& artifact, int gpu = 0);

}  // namespace cocktail::runtime::cuda
