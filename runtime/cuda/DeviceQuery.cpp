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

}  // namespace cocktail::runtime::cuda
