//===- tools/cocktail-compile.cpp - TorchScript file in, .cocktail artifact out -------===//
//
//   cocktail-compile MODEL.pt -o OUT.cocktail --input NAME:DTYPE[DIMS] ...
//                    [--target cpu|cuda|auto] [--arch sm_80,sm_90] [--resource-report FILE]
//                    [--emit torchscript|ir|scheduled|cuda|dot] [--strict]
//
//===----------------------------------------------------------------------===//
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "driver/Compile.h"
#include "ir/DotPrinter.h"
#include "ir/Printer.h"
#include "runtime/Artifact.h"
#include "tools/ExitCode.h"

namespace {

using namespace cocktail;

using tools::ExitCode;

int fail(const std::string& message, ExitCode code = ExitCode::UserError) {
  fmt::print(stderr, "cocktail-compile: {}\n", message);
  return tools::exitStatus(code);
}

int failStatus(const ir::Status& status) {
  for (const ir::Diagnostic& d : status.diagnostics()) fmt::print(stderr, "{}\n", d.str());
  return tools::exitStatus(status.kind());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Compile a TorchScript model with loops and branches into a Cocktail artifact.\n\n"
      "The model's forward is frozen, inlined and translated into the uTask IR; the result is\n"
      "written as a .cocktail file that cocktail-run, cocktail-serve and the cocktail Python\n"
      "package load.\n\n"
      "Example:\n"
      "  cocktail-compile lstm.pt -o lstm.cocktail --input 'xs:f32[T<=128,1,256]'\n"
      "  cocktail-compile decoder.pt --input 'h:f32[1,256]' --input steps:i64 --emit ir",
      "cocktail-compile"};
  app.set_version_flag("--version", runtime::compilerVersion());
  std::string model;
  std::string output;
  std::vector<std::string> inputs;
  std::string target = "auto";
  std::string emit;
  bool strict = false;
  bool noLocations = false;
  bool quiet = false;
  bool printAfterAll = false;
  bool timing = false;
  std::string method = "forward";
  int optLevel = 2;
  std::string archs = "sm_80,sm_90";
  std::string resourceReport;
  int64_t maxArenaBytes = driver::CompileOptions::kDefaultMaxArenaBytes;
  app.add_option("model", model, "TorchScript file (torch.jit.save of a scripted module)")->required();
  app.add_option("-o,--output", output, "Where to write the artifact, e.g. -o lstm.cocktail");
  app.add_option("--input", inputs,
                 "One per argument of forward, NAME:DTYPE[DIMS]: dims are numbers or a symbol with an upper\n"
                 "bound, e.g. --input 'xs:f32[T<=128,4,64]'; a scalar is NAME:DTYPE, e.g. --input steps:i64.\n"
                 "DTYPE is one of " +
                     std::string(ir::kDTypeNames) +
                     "(u8: .byte() masks). An Optional argument that is None is NAME:none,\n"
                     "e.g. --input lengths:none: its `is None` tests fold, and the compiled model does not take it;\n"
                     "given, it takes its element's spec, e.g. --input 'lengths:i64[B]'");
  app.add_option("--target", target, "Where the model will run: cpu, cuda, or auto (default: cuda when this build has the CUDA backend\nand this machine a GPU, else cpu)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  app.add_option("--arch", archs,
                 "target cuda: GPU architectures to compile cubins for, comma-separated (default sm_80,sm_90);\n"
                 "PTX for the lowest is kept too, for newer GPUs");
  app.add_option("--resource-report", resourceReport,
                 "target cuda: write ptxas's registers, shared memory and spills per kernel to this file");
  app.add_option("--emit", emit,
                 "Print a stage to stdout instead of (or besides, with -o) writing the artifact:\n"
                 "torchscript (the TorchScript graph the compiler translates: frozen, inlined, its guards folded and\n"
                 "types refined on the --input specs; printed even when translating it fails),\n"
                 "ir (the translated uProgram), scheduled (after the scheduling passes), cuda (generated CUDA),\n"
                 "dot (the schedule as a Graphviz graph: loops and branches with their placement, uOperators,\n"
                 "fused and batched work; render it with e.g. `dot -Tsvg`)")
      ->check(CLI::IsMember({"torchscript", "ir", "scheduled", "cuda", "dot"}));
  app.add_flag("--strict", strict,
               "Fail on an op the compiler does not lower, instead of running it as a TorchScript island on the host");
  app.add_option(
         "-O,--opt-level", optLevel,
         "0: translate and lower only (dce, shape-inference); 2 (default): also the scheduling passes\n"
         "(canonicalize, licm, cse, interchange-layers, batch-steps, branch-split, fuse-elementwise, fuse-epilogue,\n"
         "place-control-flow, partition, plan-memory).\n"
         "-O0 is the reference the differential tests compare -O2 against")
      ->check(CLI::IsMember({0, 2}));
  app.add_option("--method", method, "The method of the module to compile (default: forward)");
  app.add_option("--max-arena-bytes", maxArenaBytes,
                 "The most memory one run may plan for (default 17179869184, 16 GiB): an input with every dim at its\n"
                 "bound, or the whole memory plan, past it is an error at compile time naming the input and the size")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-locations", noLocations, "Leave source locations out of --emit output");
  app.add_flag("-q,--quiet", quiet, "Print only errors and warnings");
  app.add_flag("--print-after-all", printAfterAll, "Print the program to stderr after every compiler pass");
  app.add_flag("--timing", timing, "Print the time each compiler pass took to stderr");
  app.footer(tools::exitStatusHelp());
  if (auto done = tools::parseCommandLine(app, argc, argv)) return *done;

  if (output.empty() && emit.empty())
    return fail("nothing to do: give -o OUT.cocktail, --emit STAGE, or both", ExitCode::Usage);
  if (emit == "cuda") {
    if (target == "cpu") return fail("--emit cuda shows the code of target cuda; drop --target cpu", ExitCode::Usage);
    target = "cuda";
  }
  if ((emit == "scheduled" || emit == "dot") && optLevel == 0)
    return fail(fmt::format("--emit {} needs the scheduling passes, which -O0 leaves out; use -O2 (the default)", emit),
                ExitCode::Usage);

  if (inputs.empty()) {
    auto signature = frontend::describeSignature(model, method);
    if (!signature) return failStatus(signature.status());
    return fail(fmt::format("no --input given: describe each argument of {} with --input NAME:DTYPE[DIMS], "
                            "e.g. --input 'xs:f32[T<=128,4,64]' or --input steps:i64",
                            *signature),
                ExitCode::Usage);
  }

  auto start = std::chrono::steady_clock::now();
  driver::CompileOptions options;
  options.inputSpecs = inputs;
  options.target = target;
  options.cudaArchs.clear();
  for (size_t start = 0; start <= archs.size();) {
    const size_t comma = std::min(archs.find(',', start), archs.size());
    if (comma > start) options.cudaArchs.push_back(archs.substr(start, comma - start));
    start = comma + 1;
  }
  options.strict = strict;
  options.maxArenaBytes = maxArenaBytes;
  options.method = method;
  options.printAfterAll = printAfterAll;
  options.optLevel = optLevel;
  ir::PrintOptions po;
  po.locations = !noLocations;
  if (emit == "cuda") options.onCudaSource = [](const std::string& source) { fmt::print("{}", source); };
  if (emit == "torchscript") options.onSpecialized = [](const std::string& graph) { fmt::print("{}", graph); };
  if (emit == "ir") options.onLowered = [&](const ir::Program& p) { fmt::print("{}", ir::printProgram(p, po)); };
  options.timing = timing;
  options.dump = &std::cerr;
  if (!quiet) fmt::print(stderr, "cocktail-compile: translating {} ...\n", model);
  auto compiled = driver::compileTorchScript(model, options);
  if (!compiled) return failStatus(compiled.status());
  runtime::Artifact& artifact = compiled->artifact;
  for (const frontend::Fallback& f : compiled->fallbacks) fmt::print(stderr, "{}\n", driver::describeFallback(f, model));

  for (const std::string& k : compiled->persistentSpills)
    fmt::print(stderr, "cocktail-compile: warning: the persistent kernel {} spills registers (see --resource-report)\n", k);
  if (!resourceReport.empty()) {
    std::FILE* f = std::fopen(resourceReport.c_str(), "w");
    if (!f) return fail(fmt::format("cannot write the resource report to '{}'", resourceReport));
    fmt::print(f, "{}", compiled->cudaResources);
    std::fclose(f);
  }
  if (emit == "scheduled") fmt::print("{}", ir::printProgram(*artifact.program, po));
  if (emit == "dot") fmt::print("{}", ir::printDot(*artifact.program));
  if (output.empty()) return 0;
  if (ir::Status saved = runtime::saveArtifact(artifact, output); !saved.ok()) return failStatus(saved);

  if (!quiet) {
    size_t ops = 0;
    ir::walk(artifact.program->body(), [&](ir::Op&) { ++ops; });
    std::error_code ec;
    auto bytes = std::filesystem::file_size(output, ec);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "cocktail-compile: wrote {} ({} ops, {} weights, {:.1f} MiB, target {}, {} fallback{}) in {:.0f} ms\n",
               output, ops, artifact.program->weights().size(), static_cast<double>(bytes) / (1 << 20), artifact.target,
               artifact.fallbacks.size(), artifact.fallbacks.size() == 1 ? "" : "s", ms);
  }
  return 0;
}
