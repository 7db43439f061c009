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

}  // namespace cocktail::runtime::cuda
