//===- runtime/cuda/DeviceQuery.cpp ------------------------------------------------------===//
#include "runtime/cuda/DeviceQuery.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

namespace cocktail::runtime::cuda {

DeviceAvailability queryCudaDevice() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // the runtime keeps the error sticky otherwise
    return {false, fmt::format("no GPU: {}", cudaGetErrorString(err))};
  }
  if (count == 0) return {false, "no GPU: the CUDA runtime sees no device"};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return {false, "no GPU: cannot read the properties of device 0"};
  return {true, fmt::format("{} (sm_{}{})", prop.name, prop.major, prop.minor), count};
}

DeviceMemory queryDeviceMemory(int gpu) {
  DeviceMemory m;
  size_t freeBytes = 0, totalBytes = 0;
  cudaDeviceProp prop{};
  if (cudaSetDevice(gpu) != cudaSuccess || cudaMemGetInfo(&freeBytes, &totalBytes) != cudaSuccess ||
      cudaGetDeviceProperties(&prop, gpu) != cudaSuccess) {
    cudaGetLastError();
    return m;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(prop.uuid.bytes);
  m.uuid = fmt::format(
      "GPU-{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", b[0],
      b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  m.available = true;
  m.totalBytes = static_cast<int64_t>(totalBytes);
  m.usedBytes = static_cast<int64_t>(totalBytes - freeBytes);
  return m;
}

}  // namespace cocktail::runtime::cuda
