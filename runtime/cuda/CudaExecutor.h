//===- runtime/cuda/CudaExecutor.h - Running a CUDA artifact on the GPU ---------------------===//
//
// An Executor over a CUDA artifact: the kernels the artifact stores loaded
// on the GPU (CudaDevice), its host plan run by PlanRunner. Nothing is
// generated here: the plan comes from the artifact, checked when it loaded.
// Not yet run on a GPU (see docs/cuda.md).
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
