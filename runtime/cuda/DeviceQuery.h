//===- runtime/cuda/DeviceQuery.h - Is there a GPU here? ----------------------------------===//
//
// Asks the CUDA runtime whether this machine has a usable GPU. A machine
// with the toolkit but no driver (CI, a laptop) answers "CUDA driver version
// is insufficient for CUDA runtime version": that is "no GPU", not an error.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace cocktail::runtime::cuda {

struct DeviceAvailability {
  bool available = false;
  std::string description;  // "NVIDIA H100 80GB HBM3 (sm_90)" (device 0) or why there is none
  int count = 0;            // the GPUs this process sees (CUDA_VISIBLE_DEVICES applies)
};

DeviceAvailability queryCudaDevice();

/// A GPU's memory as cudaMemGetInfo sees it (NVML is not used), for the
/// server's nv_gpu_memory_* metrics.
struct DeviceMemory {
  bool available = false;
  std::string uuid;  // "GPU-8f6c...": NVML's spelling, which Triton's metrics label with
  int64_t totalBytes = 0, usedBytes = 0;
};

/// Selects GPU `gpu` on the calling thread to ask.
DeviceMemory queryDeviceMemory(int gpu);

}  // namespace cocktail::runtime::cuda
