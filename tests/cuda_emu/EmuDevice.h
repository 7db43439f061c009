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
#include "tests/cuda_emu/EmuCounters.h"

namespace cocktail::cuda_emu {

struct EmuOptions {
  /// Blocks of a persistent (cooperative) launch, threads per block (whole warps).
  unsigned persistentBlocks = 4;
  unsigned blockThreads = 64;
  /// Fiber switches a launch may take before it is called a deadlock.
  unsigned long long switchLimit = 1'000'000'000ULL;
  /// Where to keep the generated source and the library (default: a fresh temporary folder).
  std::string workDir;
  /// Count memory traffic, bank conflicts, syncs and flops per launch (cuda_emu.h's
  /// COCKTAIL_PERF_COUNTERS; the module is instrumented, and runs a few times slower).
  bool countPerformance = false;
};

/// What a kernel's launches did, stage by stage (a stage ends at a grid barrier).
struct KernelCounts {
  int64_t launches = 0;
  /// The grid of each launch, and how many of `stages` it took.
  std::vector<unsigned> grids;
  std::vector<size_t> stagesPerLaunch;
  std::vector<cocktail_emu::PerfStage> stages;
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
  /// Per kernel, in order of first launch; empty unless `countPerformance`.
  const std::vector<std::pair<std::string, KernelCounts>>& counts() const { return counts_; }

 private:
  EmuDevice() = default;
  using Entry = void (*)(const void*);
  using Launch = int (*)(Entry, const void*, unsigned, unsigned, unsigned long long, unsigned long long);
  using PerfBegin = void (*)(const void*, unsigned long long);
  using PerfStages = size_t (*)(const cocktail_emu::PerfStage**);
  EmuOptions options_;
  void* library_ = nullptr;
  Launch launch_ = nullptr;
  PerfBegin perfBegin_ = nullptr;
  PerfStages perfStages_ = nullptr;
  std::vector<std::pair<std::string, KernelCounts>> counts_;
  std::map<std::string, Entry> entries_;
  char* arena_ = nullptr;
  int64_t arenaBytes_ = 0;
  int64_t launches_ = 0;
};

}  // namespace cocktail::cuda_emu
