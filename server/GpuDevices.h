//===- server/GpuDevices.h - The GPUs KIND_GPU instances run on ---------------------===//
//
// What the server needs of a GPU: how many this process sees (or why none),
// and a KernelDevice on one of them for a model's CUDA plan: its own stream
// and arena, one per instance. cocktail-serve uses the machine's GPUs
// through the CUDA runtime (machineGpus()); a test hands the Repository its
// own (RepositoryOptions::gpus), e.g. the CPU emulation harness of
// tests/cuda_emu, so that the KIND_GPU path is served end to end without a
// GPU. Nothing here reads the environment.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ir/Status.h"
#include "runtime/Artifact.h"
#include "runtime/Executor.h"
#include "runtime/cuda/PlanRunner.h"
#include "server/Metrics.h"

namespace cocktail::server {

class GpuDevices {
 public:
  virtual ~GpuDevices() = default;
  /// The GPUs this process sees; 0, with `why` saying why, when there are none.
  virtual int count(std::string& why) = 0;
  /// A device on GPU `gpu` (0 <= gpu < count()) for `plan`, with `code`'s kernels loaded.
  virtual ir::Expected<std::unique_ptr<runtime::cuda::KernelDevice>> open(const runtime::cuda::CudaPlan& plan,
                                                                          const runtime::TargetCode& code, int gpu) = 0;
  /// GPU `gpu`'s memory for the metrics; none where it cannot be read.
  virtual std::optional<GpuMemoryReading> memory(int gpu) = 0;
};

/// The machine's GPUs through the CUDA runtime; in a build without CUDA,
/// none, with that as the reason.
std::shared_ptr<GpuDevices> machineGpus();

/// An executor running `artifact`'s CUDA plan on GPU `gpu` of `gpus`: the
/// artifact must have been compiled for target cuda.
ir::Expected<std::unique_ptr<runtime::Executor>> gpuExecutor(GpuDevices& gpus, const runtime::Artifact& artifact,
                                                             int gpu);

}  // namespace cocktail::server
