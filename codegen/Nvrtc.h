//===- codegen/Nvrtc.h - Generated CUDA to cubins and PTX, without a GPU ------------===//
//
// NVRTC compiles the generated source in-process for each GPU architecture
// asked for (a cubin each) and once for the lowest one's virtual
// architecture (PTX, which a driver can JIT for a GPU newer than any cubin).
// ptxas's verbose output is kept and parsed into a resource report.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <string>
#include <vector>

#include "codegen/ResourceReport.h"
#include "ir/Status.h"

namespace cocktail::codegen {

struct CompiledCuda {
  std::map<std::string, std::string> cubins;  // "sm_90" -> cubin bytes
  std::string ptx;                            // for compute_<lowest arch>
  std::string ptxArch;                        // "compute_80"
  ResourceReport resources;                   // per kernel and arch
};

/// Compiles `source` (named `name` in diagnostics) for every arch
/// ("sm_80", "sm_90"). A compile error is a Status carrying NVRTC's log: the
/// generated code is wrong, which is a compiler bug worth a full report.
ir::Expected<CompiledCuda> compileWithNvrtc(const std::string& source, const std::vector<std::string>& archs,
                                            const std::string& name = "cocktail.cu");

/// "13.0": the NVRTC this build links.
std::string nvrtcVersion();

}  // namespace cocktail::codegen
