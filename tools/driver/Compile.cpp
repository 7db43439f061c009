//===- tools/driver/Compile.cpp ---------------------------------------------------------===//
#include "tools/driver/Compile.h"

#include <fmt/format.h>

#include "ir/Verifier.h"
#include "passes/Pass.h"

namespace cocktail::driver {

ir::Expected<CompileResult> compileTorchScript(const std::string& modelPath, const CompileOptions& options) {
  std::string target = options.target;
  if (target != "cpu" && target != "cuda" && target != "auto")
    return ir::Status::error(fmt::format("unknown target '{}' (one of cpu, cuda, auto)", target));
  if (target == "cuda")
    return ir::Status::error("target cuda: the CUDA backend is not part of this build yet; use target cpu");
  if (target == "auto") target = "cpu";

  std::vector<ir::Symbol> symbols;
  auto specs = ir::parseInputSpecs(options.inputSpecs, &symbols);
  if (!specs) return specs.status();

  frontend::FrontendOptions fo;
  fo.strict = options.strict;
  fo.method = options.method;
  auto translation = frontend::translateTorchScriptFile(modelPath, *specs, symbols, fo);
  if (!translation) return translation.status();

  if (ir::Status verified = ir::verifyProgram(*translation->program); !verified.ok()) {
    ir::Status bug = ir::Status::error("internal error: the translated program does not verify");
    bug.append(verified);
    return bug;
  }

  // The lowering pipeline, in the order the passes must run. Later passes
  // (scheduling, partition, placement) are appended here.
  passes::PassManagerOptions pmo;
  pmo.printAfterAll = options.printAfterAll;
  pmo.timing = options.timing;
  pmo.dump = options.dump;
  passes::PassManager pipeline(pmo);
  pipeline.add(passes::createPass("dce"));
  pipeline.add(passes::createPass("shape-inference"));
  COCKTAIL_RETURN_IF_ERROR(pipeline.run(*translation->program));

  CompileResult result;
  runtime::Artifact& a = result.artifact;
  a.compilerVersion = runtime::compilerVersion();
  a.sourceModel = modelPath;
  a.target = target;
  for (const auto& s : *specs) a.inputSpecs.push_back(s.str());
  for (const auto& f : translation->fallbacks) a.fallbacks.push_back({f.op, f.loc.str(), f.reason});
  a.program = std::move(translation->program);
  result.fallbacks = translation->fallbacks;
  return result;
}

std::string describeFallback(const frontend::Fallback& f, const std::string& modelPath) {
  return fmt::format("{}: warning: {} runs as a TorchScript island on the host ({}); --strict makes this an error",
                     f.loc.known() ? f.loc.str() : modelPath, f.op, f.reason);
}

}  // namespace cocktail::driver
