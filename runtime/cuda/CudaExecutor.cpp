//===- runtime/cuda/CudaExecutor.cpp -------------------------------------------------------===//
#include "runtime/cuda/CudaExecutor.h"

#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/PlanExecutor.h"

namespace cocktail::runtime::cuda {

ir::Expected<std::unique_ptr<Executor>> createCudaExecutor(const Artifact& artifact, int gpu) {
  auto code = cudaCodeOf(artifact);
  if (!code) return code.status();
  auto device = CudaDevice::create(*(*code)->cudaPlan, **code, gpu);
  if (!device) return device.status();
  return createPlanExecutor(artifact, device.take());
}

}  // namespace cocktail::runtime::cuda
