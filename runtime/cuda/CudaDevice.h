//===- runtime/cuda/CudaDevice.h - A generated module on a real GPU -------------------------===//
//
// The KernelDevice of the CUDA runtime: loads the artifact's cubin for the
// GPU's architecture (or JITs its PTX for a newer one) with
// cudaLibraryLoadData, allocates the arena once, and launches persistent
// kernels cooperatively, one block per SM once the occupancy API says one
// fits with its dynamic shared memory (a grid barrier needs every block
// resident). Every CUDA call and every launch is checked. Each device is one
// GPU, one stream and one arena; every call selects its GPU first, since the
// CUDA runtime's current device belongs to the calling thread and a server
// instance is opened on one thread and runs on another.
//
// Written against the CUDA 13 runtime API and compiled in CI, but not yet
// run on a GPU: no session so far has had one (see docs/cuda.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <memory>
#include <string>

#include "ir/Status.h"
#include "runtime/Artifact.h"
#include "runtime/cuda/PlanRunner.h"

namespace cocktail::runtime::cuda {

class CudaDevice final : public KernelDevice {
 public:
  /// On GPU `gpu` (a CUDA device ordinal). Fails with a clear message where
  /// there is no GPU, no GPU `gpu`, or no code for it.
  static ir::Expected<std::unique_ptr<CudaDevice>> create(const CudaPlan& plan, const TargetCode& code, int gpu = 0);
  ~CudaDevice() override;

  char* arena() override { return arena_; }
  ir::Status write(int64_t offset, const void* src, int64_t bytes) override;
  ir::Status read(int64_t offset, void* dst, int64_t bytes) override;
  ir::Status launch(const KernelInfo& kernel, int64_t grid, const std::vector<char>& frame) override;

  /// "cuda:0 (NVIDIA H100 80GB HBM3, sm_90, cubin)"
  std::string description() const override { return description_; }

 private:
  CudaDevice() = default;
  struct Kernel {
    const void* function = nullptr;
    int residentBlocks = 0;  // cooperative grid: one block per SM
    int64_t sharedBytes = 0; // dynamic shared memory per block
    int blockThreads = 0;
  };
  int gpu_ = 0;
  void* library_ = nullptr;  // cudaLibrary_t
  void* stream_ = nullptr;   // cudaStream_t
  char* arena_ = nullptr;
  int64_t arenaBytes_ = 0;
  std::map<std::string, Kernel> kernels_;
  std::string description_;
};

}  // namespace cocktail::runtime::cuda
