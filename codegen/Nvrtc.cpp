//===- codegen/Nvrtc.cpp -------------------------------------------------------------===//
#include "codegen/Nvrtc.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <nvrtc.h>

namespace cocktail::codegen {

namespace {

struct ProgramDeleter {
  void operator()(nvrtcProgram p) const { nvrtcDestroyProgram(&p); }
};
using Program = std::unique_ptr<std::remove_pointer_t<nvrtcProgram>, ProgramDeleter>;

struct Output {
  std::string code;  // cubin or PTX
  std::string log;
};

std::string programLog(nvrtcProgram p) {
  size_t size = 0;
  if (nvrtcGetProgramLogSize(p, &size) != NVRTC_SUCCESS || size <= 1) return {};
  std::string log(size, '\0');
  nvrtcGetProgramLog(p, log.data());
  log.resize(size - 1);
  return log;
}

/// One NVRTC compilation for `arch` ("sm_90": a cubin, "compute_80": PTX).
ir::Expected<Output> compileOnce(const std::string& source, const std::string& name, const std::string& arch) {
  nvrtcProgram raw = nullptr;
  if (nvrtcResult r = nvrtcCreateProgram(&raw, source.c_str(), name.c_str(), 0, nullptr, nullptr); r != NVRTC_SUCCESS)
    return ir::Status::error(fmt::format("NVRTC: cannot create a program: {}", nvrtcGetErrorString(r)));
  Program program(raw);
  const bool cubin = arch.rfind("sm_", 0) == 0;
  const std::string archOption = "--gpu-architecture=" + arch;
  std::vector<const char*> options = {archOption.c_str(), "-std=c++17",
                                      // Unused coordinates and pointers of generated code are not news.
                                      "-diag-suppress=177,550"};
  if (cubin) options.push_back("--ptxas-options=-v");
  const nvrtcResult r = nvrtcCompileProgram(program.get(), static_cast<int>(options.size()), options.data());
  Output out{{}, programLog(program.get())};
  if (r != NVRTC_SUCCESS) {
    ir::Status st = ir::Status::error(
        fmt::format("internal error: NVRTC rejected the generated CUDA for {} ({}); this is a compiler bug", arch,
                    nvrtcGetErrorString(r)),
        {}, ir::ErrorKind::Internal);
    st.add(ir::Diagnostic{{}, "NVRTC's log:\n" + out.log, {}});
    return st;
  }
  size_t size = 0;
  if (cubin) {
    nvrtcGetCUBINSize(program.get(), &size);
    out.code.resize(size);
    nvrtcGetCUBIN(program.get(), out.code.data());
  } else {
    nvrtcGetPTXSize(program.get(), &size);
    out.code.resize(size);
    nvrtcGetPTX(program.get(), out.code.data());
    if (!out.code.empty() && out.code.back() == '\0') out.code.pop_back();
  }
  return out;
}

bool validArch(const std::string& arch) {
  if (arch.size() < 5 || arch.rfind("sm_", 0) != 0) return false;
  return std::all_of(arch.begin() + 3, arch.end(), [](char c) { return (c >= '0' && c <= '9') || c == 'a'; });
}

}  // namespace

ir::Expected<CompiledCuda> compileWithNvrtc(const std::string& source, const std::vector<std::string>& archs,
                                            const std::string& name) {
  if (archs.empty()) return ir::Status::error("no CUDA architecture to compile for (e.g. --arch sm_80,sm_90)");
  for (const std::string& a : archs)
    if (!validArch(a))
      return ir::Status::error(fmt::format("unknown CUDA architecture '{}' (expected sm_NN, e.g. sm_80 or sm_90)", a));
  CompiledCuda out;
  for (const std::string& arch : archs) {
    auto compiled = compileOnce(source, name, arch);
    if (!compiled) return compiled.status();
    out.cubins[arch] = std::move(compiled->code);
    auto kernels = parsePtxasLog(compiled->log, arch);
    out.resources.kernels.insert(out.resources.kernels.end(), kernels.begin(), kernels.end());
  }
  // PTX for the lowest architecture asked for: any newer GPU can JIT it.
  std::string lowest = *std::min_element(archs.begin(), archs.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a.substr(3)) < std::stoi(b.substr(3));
  });
  out.ptxArch = "compute_" + lowest.substr(3);
  auto ptx = compileOnce(source, name, out.ptxArch);
  if (!ptx) return ptx.status();
  out.ptx = std::move(ptx->code);
  return out;
}

std::string nvrtcVersion() {
  int major = 0, minor = 0;
  ::nvrtcVersion(&major, &minor);
  return fmt::format("{}.{}", major, minor);
}

}  // namespace cocktail::codegen
