//===- driver/Compile.cpp ---------------------------------------------------------------===//
#include "driver/Compile.h"

#include <fmt/format.h>

#include "ir/Schedule.h"
#include "ir/Verifier.h"
#include "passes/Pass.h"
#if COCKTAIL_HAVE_CUDA
#include "codegen/CudaCodegen.h"
#include "codegen/Nvrtc.h"
#include "runtime/cuda/DeviceQuery.h"
#endif

namespace cocktail::driver {

namespace {

/// The scheduling pipeline, with the passes that weigh the target made for it.
ir::Status addSchedulingPipeline(passes::PassManager& pm, const std::string& target) {
  if (target != "cuda") return pm.addPipeline(passes::kSchedulingPipeline, passes::TargetModel::cpu());
  std::string_view names = passes::kSchedulingPipeline;
  while (!names.empty()) {
    const size_t comma = names.find(',');
    const std::string_view name = names.substr(0, comma);
    // The CUDA generator runs a fused body per element: no contraction epilogues yet.
    if (name != "fuse-epilogue") COCKTAIL_RETURN_IF_ERROR(pm.addPipeline(name, passes::TargetModel::cuda()));
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
  }
  return ir::Status::success();
}

/// "16.0 GiB": a size for a message.
std::string humanBytes(int64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} bytes", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

/// Bytes of a tensor input with every dim at its bound; nullopt past int64.
std::optional<int64_t> largestBytes(const ir::InputSpec& spec, const std::vector<ir::Symbol>& symbols) {
  int64_t n = ir::dtypeSize(spec.type.dtype());
  for (const ir::Dim& d : spec.type.dims()) {
    int64_t size = d.isConstant() ? d.value() : 0;
    if (d.isSymbol())
      for (const ir::Symbol& s : symbols)
        if (s.name == d.symbolName()) size = s.bound;
    if (__builtin_mul_overflow(n, size, &n)) return std::nullopt;
  }
  return n;
}

/// An input that alone is past the limit, before anything is translated.
ir::Status checkInputSizes(const std::vector<ir::InputSpec>& specs, const std::vector<ir::Symbol>& symbols,
                           int64_t limit) {
  for (const ir::InputSpec& spec : specs) {
    if (spec.absent || !spec.type.isTensor() || !spec.type.hasRank()) continue;
    const auto bytes = largestBytes(spec, symbols);
    if (bytes && *bytes <= limit) continue;
    const std::string size = bytes ? fmt::format("{} ({} bytes)", humanBytes(*bytes), *bytes) : "more than 8 EiB";
    return ir::Status::error(
        fmt::format("input '{}' takes {} at its largest, over the limit of {} one run may "
                    "plan for (--max-arena-bytes); lower its bound or fixed dim, or raise the limit",
                    spec.str(), size, humanBytes(limit)));
  }
  return ir::Status::success();
}

}  // namespace

ir::Expected<CompileResult> compileTorchScript(const std::string& modelPath, const CompileOptions& options) {
  std::string target = options.target;
  if (target != "cpu" && target != "cuda" && target != "auto")
    return ir::Status::error(fmt::format("unknown target '{}' (one of cpu, cuda, auto)", target));
#if !COCKTAIL_HAVE_CUDA
  if (target == "cuda")
    return ir::Status::error("target cuda: this build has no CUDA backend (configure with COCKTAIL_ENABLE_CUDA=ON); use target cpu");
#endif
  // auto: the GPU when this build can use one and the machine has one.
#if COCKTAIL_HAVE_CUDA
  if (target == "auto") target = runtime::cuda::queryCudaDevice().available ? "cuda" : "cpu";
#else
  if (target == "auto") target = "cpu";
#endif

  std::vector<ir::Symbol> symbols;
  auto specs = ir::parseInputSpecs(options.inputSpecs, &symbols);
  if (!specs) return specs.status();
  if (options.maxArenaBytes <= 0)
    return ir::Status::error(fmt::format("the arena limit must be positive, not {}", options.maxArenaBytes));
  COCKTAIL_RETURN_IF_ERROR(checkInputSizes(*specs, symbols, options.maxArenaBytes));

  frontend::FrontendOptions fo;
  fo.strict = options.strict;
  fo.method = options.method;
  fo.onSpecialized = options.onSpecialized;
  auto translation = frontend::translateTorchScriptFile(modelPath, *specs, symbols, fo);
  if (!translation) return translation.status();

  if (ir::Status verified = ir::verifyProgram(*translation->program); !verified.ok()) {
    ir::Status bug = ir::Status::error("internal error: the translated program does not verify", {}, ir::ErrorKind::Internal);
    bug.append(verified);
    return bug;
  }

  if (options.optLevel != 0 && options.optLevel != 2)
    return ir::Status::error(fmt::format("unknown optimization level {} (use 0 or 2)", options.optLevel));
  passes::PassManagerOptions pmo;
  pmo.printAfterAll = options.printAfterAll;
  pmo.timing = options.timing;
  pmo.dump = options.dump;
  // Lowering: what every level runs, and what `--emit ir` shows.
  passes::PassManager lowering(pmo);
  COCKTAIL_RETURN_IF_ERROR(lowering.addPipeline(passes::kLoweringPipeline));
  COCKTAIL_RETURN_IF_ERROR(lowering.run(*translation->program));
  if (options.onLowered) options.onLowered(*translation->program);
  // Scheduling: the Cocktailer passes, in the order they must run.
  if (options.optLevel >= 2) {
    passes::PassManager scheduling(pmo);
    COCKTAIL_RETURN_IF_ERROR(addSchedulingPipeline(scheduling, target));
    COCKTAIL_RETURN_IF_ERROR(scheduling.run(*translation->program));
    // Each input fits, but what the program makes of them may not.
    if (const auto arena = ir::arenaPlan(*translation->program); arena && arena->bytes > options.maxArenaBytes) {
      std::string inputs;
      for (const auto& s : *specs)
        if (!s.absent && s.type.isTensor()) inputs += (inputs.empty() ? "" : ", ") + s.str();
      return ir::Status::error(fmt::format(
          "the memory plan needs an arena of {} ({} bytes) for the inputs at their largest ({}), over the limit of {} "
          "(--max-arena-bytes); lower a bound or a fixed dim, or raise the limit",
          humanBytes(arena->bytes), arena->bytes, inputs, humanBytes(options.maxArenaBytes)));
    }
  }

  CompileResult result;
  runtime::Artifact& a = result.artifact;
#if COCKTAIL_HAVE_CUDA
  if (target == "cuda") {
    if (options.optLevel < 2) return ir::Status::error("target cuda needs the scheduling passes, which -O0 leaves out");
    auto module = codegen::generateCuda(*translation->program);
    if (!module) return module.status();
    if (options.onCudaSource) options.onCudaSource(module->source);
    auto compiled = codegen::compileWithNvrtc(module->source, options.cudaArchs, modelPath + ".cu");
    if (!compiled) return compiled.status();
    for (codegen::KernelResources& k : compiled->resources.kernels) {
      for (const runtime::cuda::KernelInfo& info : module->plan.kernels)
        if (info.name == k.kernel) {
          k.kind = info.kind == runtime::cuda::KernelInfo::Kind::Persistent ? "persistent"
                   : info.kind == runtime::cuda::KernelInfo::Kind::Copy     ? "copy"
                                                                            : "operator";
          k.dynamicSharedBytes = info.sharedBytes;
        }
      if (k.kind == "persistent" && k.spills()) result.persistentSpills.push_back(fmt::format("{} ({})", k.kernel, k.arch));
    }
    result.cudaResources = compiled->resources.table();
    // The artifact keeps the text, the binaries and the plan: the runtime runs them without the generator.
    runtime::TargetCode code{"cuda", std::move(module->source), {}, std::move(module->plan)};
    for (auto& [arch, cubin] : compiled->cubins) code.binaries[arch] = std::move(cubin);
    code.binaries["ptx"] = std::move(compiled->ptx);
    a.code.push_back(std::move(code));
  }
#endif
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
