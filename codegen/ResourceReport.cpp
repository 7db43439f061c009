//===- codegen/ResourceReport.cpp ---------------------------------------------------===//
#include "codegen/ResourceReport.h"

#include <regex>
#include <sstream>

#include <fmt/format.h>

namespace cocktail::codegen {

std::vector<KernelResources> parsePtxasLog(const std::string& log, const std::string& arch) {
  // ptxas info    : Compiling entry function 'k3_loop' for 'sm_90'
  // ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
  // ptxas info    : Used 48 registers, used 1 barriers, 1024 bytes smem, 380 bytes cmem[0]
  static const std::regex kEntry(R"(Compiling entry function '([^']+)')");
  static const std::regex kFrame(R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex kUsed(R"(Used (\d+) registers)");
  static const std::regex kSmem(R"((\d+) bytes smem)");
  static const std::regex kCmem(R"((\d+) bytes cmem\[0\])");
  std::vector<KernelResources> out;
  std::istringstream in(log);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, kEntry)) {
      KernelResources k;
      k.kernel = m[1].str();
      k.arch = arch;
      out.push_back(std::move(k));
      continue;
    }
    if (out.empty()) continue;
    KernelResources& k = out.back();
    if (std::regex_search(line, m, kFrame)) {
      k.stackBytes = std::stoll(m[1].str());
      k.spillStoreBytes = std::stoll(m[2].str());
      k.spillLoadBytes = std::stoll(m[3].str());
    }
    if (std::regex_search(line, m, kUsed)) k.registers = std::stoi(m[1].str());
    if (std::regex_search(line, m, kSmem)) k.sharedBytes = std::stoll(m[1].str());
    if (std::regex_search(line, m, kCmem)) k.constantBytes = std::stoll(m[1].str());
  }
  return out;
}

std::string ResourceReport::table() const {
  std::string out = fmt::format("{:<28} {:<11} {:<6} {:>5} {:>8} {:>10} {:>6} {:>11} {:>11}\n", "kernel", "kind", "arch",
                                "regs", "smem B", "dyn smem B", "stack", "spill st B", "spill ld B");
  for (const KernelResources& k : kernels)
    out += fmt::format("{:<28} {:<11} {:<6} {:>5} {:>8} {:>10} {:>6} {:>11} {:>11}{}\n", k.kernel, k.kind, k.arch,
                       k.registers, k.sharedBytes, k.dynamicSharedBytes, k.stackBytes, k.spillStoreBytes, k.spillLoadBytes,
                       k.spills() ? "  SPILLS" : "");
  return out;
}

}  // namespace cocktail::codegen
