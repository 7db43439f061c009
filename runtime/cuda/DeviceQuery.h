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
  std::string description;  // "NVIDIA H100 80GB HBM3 (sm_90)" or why there is none
};

DeviceAvailability queryCudaDevice();

}  // namespace cocktail::runtime::cuda
