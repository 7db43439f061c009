//===- runtime/cuda/PlanExecutor.h - A CUDA artifact as an Executor, on any KernelDevice ---===//
//
// The Executor over a CUDA artifact's host plan: PlanRunner driving the
// kernels on a KernelDevice the caller opened, a GPU (CudaDevice) or, in the
// tests, the CPU emulation harness (tests/cuda_emu). The server's KIND_GPU
// instances and `cocktail-run --device cuda` both run through it, so a test
// on the emulated device exercises the code a GPU runs. One executor owns
// one device: its arena, and on a GPU its stream.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include "runtime/Artifact.h"
#include "runtime/Executor.h"
#include "runtime/cuda/PlanRunner.h"

namespace cocktail::runtime::cuda {

/// The artifact's CUDA plan (checked when the artifact loaded), or why there
/// is none: an artifact compiled for the CPU, or one that predates host plans.
ir::Expected<const TargetCode*> cudaCodeOf(const Artifact& artifact);

/// Copies the weights onto `device` and returns the executor that runs the
/// artifact there. `device` must have been opened for this artifact's plan.
ir::Expected<std::unique_ptr<Executor>> createPlanExecutor(const Artifact& artifact,
                                                           std::unique_ptr<KernelDevice> device);

}  // namespace cocktail::runtime::cuda
