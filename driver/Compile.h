//===- driver/Compile.h - The compiler as one function call ------------------------===//
//
// TorchScript file + input specs → Artifact: translation, verification, the
// pass pipeline. Shared by cocktail-compile, the Python integration and the
// server so that they compile identically.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "frontend/Frontend.h"
#include "ir/Status.h"
#include "runtime/Artifact.h"

namespace cocktail::driver {

struct CompileOptions {
  std::vector<std::string> inputSpecs;  // "xs:f32[T<=128,4,64]", one per forward argument
  std::string target = "auto";          // cpu | cuda | auto
  /// target cuda: the GPU architectures to compile for ("sm_80"); PTX is kept once.
  std::vector<std::string> cudaArchs = {"sm_80", "sm_90"};
  bool strict = false;
  /// The most memory one run may plan for: an input at its largest (every
  /// dim at its bound), and the whole arena, past it is a compile error.
  int64_t maxArenaBytes = kDefaultMaxArenaBytes;
  static constexpr int64_t kDefaultMaxArenaBytes = int64_t{16} << 30;
  std::string method = "forward";
  /// 0: translation and the lowering passes only (dce, shape-inference);
  /// 2: the scheduling passes too (fusion, placement, partition, memory plan).
  int optLevel = 2;
  /// Called with the TorchScript graph the frontend translates, specialised
  /// on the specs (what `--emit torchscript` shows), even when translating fails.
  std::function<void(const std::string&)> onSpecialized;
  /// Called with the program after the lowering passes, before scheduling
  /// (what `--emit ir` shows).
  std::function<void(const ir::Program&)> onLowered;
  /// target cuda: called with the generated CUDA C++ (what `--emit cuda` shows).
  std::function<void(const std::string&)> onCudaSource;
  bool printAfterAll = false;
  bool timing = false;
  std::ostream* dump = nullptr;         // where --print-after-all / --timing write
};

struct CompileResult {
  runtime::Artifact artifact;
  std::vector<frontend::Fallback> fallbacks;
  /// target cuda: ptxas's resources per kernel and arch, as a table.
  std::string cudaResources;
  /// target cuda: the persistent kernels that spill registers ("k3_loop (sm_80)").
  std::vector<std::string> persistentSpills;
};

/// Compiles a TorchScript file. A user error (bad spec, unsupported op with
/// strict, unknown target) comes back as a Status naming the problem.
ir::Expected<CompileResult> compileTorchScript(const std::string& modelPath, const CompileOptions& options);

/// "model.py:17: warning: aten::cumsum runs as a TorchScript island on the host (...)"
std::string describeFallback(const frontend::Fallback& f, const std::string& modelPath);

}  // namespace cocktail::driver
