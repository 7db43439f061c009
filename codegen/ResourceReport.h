//===- codegen/ResourceReport.h - What each kernel costs on chip -------------------===//
//
// ptxas's `-v` report, per kernel and architecture: registers per thread,
// shared and constant memory, stack, and spills. A persistent kernel keeps
// every block resident for the whole loop, so a spill there is paid on every
// iteration: the CI test fails on one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cocktail::codegen {

struct KernelResources {
  std::string kernel;
  std::string arch;  // "sm_90"
  std::string kind;  // "persistent", "operator", "copy" (filled by whoever knows the module)
  int registers = 0;
  int64_t sharedBytes = 0;         // static, as ptxas reports it
  int64_t dynamicSharedBytes = 0;  // asked for at launch (resident weights; from KernelInfo)
  int64_t constantBytes = 0;  // cmem[0], the kernel's parameters and constants
  int64_t stackBytes = 0;
  int64_t spillStoreBytes = 0;
  int64_t spillLoadBytes = 0;
  bool spills() const { return spillStoreBytes > 0 || spillLoadBytes > 0; }
};

struct ResourceReport {
  std::vector<KernelResources> kernels;
  /// One line per kernel and arch, aligned, with a header.
  std::string table() const;
};

/// Parses ptxas's verbose log (`--ptxas-options=-v`) for one architecture.
/// Lines it does not know are skipped; kernels appear in the order ptxas reports them.
std::vector<KernelResources> parsePtxasLog(const std::string& log, const std::string& arch);

}  // namespace cocktail::codegen
