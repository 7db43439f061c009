//===- tests/cuda_emu/EmuDevice.h - A CUDA module run on the CPU, thread by thread ---------===//
//
// A KernelDevice for the plan runner that compiles the generated source with
// the host C++ compiler against cuda_emu.h into a shared library, loads it,
// and launches each kernel as fibers (one per CUDA thread). The arena is host
// memory. For tests: it needs a C++ compiler at run time. Devices may be
// used from several threads, but their launches run one at a time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/Status.h"
#include "runtime/cuda/PlanRunner.h"

namespace cocktail::cuda_emu {

struct EmuOptions {
  /// Blocks of a persistent (cooperative) launch, threads per block (whole warps).
  unsigned persistentBlocks = 4;
  unsigned blockThreads = 64;
  /// Fiber switches a launch may take before it is called a deadlock.
  unsigned long long switchLimit = 1'000'000'000ULL;
  /// Where to keep the generated source and the library (default: a fresh temporary folder).
  std::string workDir;
};

class EmuDevice final : public runtime::cuda::KernelDevice {
 public:
  /// Compiles `cudaSource` (seconds for a large module) and allocates the arena `plan` asks for.
  static ir::Expected<std::unique_ptr<EmuDevice>> create(const runtime::cuda::CudaPlan& plan,
                                                          const std::string& cudaSource, const EmuOptions& options);
  ~EmuDevice() override;

  std::string description() const override;
  char* arena() override { return arena_; }
  ir::Status write(int64_t offset, const void* src, int64_t bytes) override;
  ir::Status read(int64_t offset, void* dst, int64_t bytes) override;
  ir::Status launch(const runtime::cuda::KernelInfo& kernel, int64_t grid, const std::vector<char>& frame) override;

  /// Launches so far, and fiber switches they took.
  int64_t launches() const { return launches_; }

 private:
  EmuDevice() = default;
  using Entry = void (*)(const void*);
  using Launch = int (*)(Entry, const void*, unsigned, unsigned, unsigned long long, unsigned long long);
  EmuOptions options_;
  void* library_ = nullptr;
  Launch launch_ = nullptr;
  std::map<std::string, Entry> entries_;
  char* arena_ = nullptr;
  int64_t arenaBytes_ = 0;
  int64_t launches_ = 0;
};

}  // namespace cocktail::cuda_emu
