//===- server/GpuDevices.cpp --------------------------------------------------------===//
#include "server/GpuDevices.h"

#include <fmt/format.h>

#if COCKTAIL_HAVE_CUDA
#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/DeviceQuery.h"
#include "runtime/cuda/PlanExecutor.h"
#endif

namespace cocktail::server {

namespace {

#if COCKTAIL_HAVE_CUDA
class CudaRuntimeGpus final : public GpuDevices {
 public:
  int count(std::string& why) override {
    const runtime::cuda::DeviceAvailability a = runtime::cuda::queryCudaDevice();
    // "no GPU: CUDA driver version is insufficient ...": the caller says there is none.
    const std::string prefix = "no GPU: ";
    if (!a.available) why = a.description.rfind(prefix, 0) == 0 ? a.description.substr(prefix.size()) : a.description;
    return a.available ? a.count : 0;
  }
  ir::Expected<std::unique_ptr<runtime::cuda::KernelDevice>> open(const runtime::cuda::CudaPlan& plan,
                                                                  const runtime::TargetCode& code, int gpu) override {
    auto device = runtime::cuda::CudaDevice::create(plan, code, gpu);
    if (!device) return device.status();
    return std::unique_ptr<runtime::cuda::KernelDevice>(device.take());
  }
  std::optional<GpuMemoryReading> memory(int gpu) override {
    const runtime::cuda::DeviceMemory m = runtime::cuda::queryDeviceMemory(gpu);
    if (!m.available) return std::nullopt;
    return GpuMemoryReading{m.uuid, m.totalBytes, m.usedBytes};
  }
};
#else
class NoGpus final : public GpuDevices {
 public:
  int count(std::string& why) override {
    why = "this cocktail-serve was built without CUDA (configured without the CUDA toolkit)";
    return 0;
  }
  ir::Expected<std::unique_ptr<runtime::cuda::KernelDevice>> open(const runtime::cuda::CudaPlan&,
                                                                  const runtime::TargetCode&, int) override {
    return ir::Status::error("this cocktail-serve was built without CUDA");
  }
  std::optional<GpuMemoryReading> memory(int) override { return std::nullopt; }
};
#endif

}  // namespace

std::shared_ptr<GpuDevices> machineGpus() {
#if COCKTAIL_HAVE_CUDA
  return std::make_shared<CudaRuntimeGpus>();
#else
  return std::make_shared<NoGpus>();
#endif
}

ir::Expected<std::unique_ptr<runtime::Executor>> gpuExecutor(GpuDevices& gpus, const runtime::Artifact& artifact,
                                                             int gpu) {
#if COCKTAIL_HAVE_CUDA
  auto code = runtime::cuda::cudaCodeOf(artifact);
  if (!code) return code.status();
  auto device = gpus.open(*(*code)->cudaPlan, **code, gpu);
  if (!device) return device.status();
  return runtime::cuda::createPlanExecutor(artifact, device.take());
#else
  return ir::Status::error("this cocktail-serve was built without CUDA");
#endif
}

}  // namespace cocktail::server
