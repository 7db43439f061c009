//===- tests/cuda_emu/cuda-emu-run.cpp - Run a CUDA artifact's kernels on the CPU ----------===//
//
//   cuda-emu-run MODEL.cocktail --inputs IN.pt [--reference MODEL.pt] [--rtol 1e-4]
//                [--blocks 4] [--threads 64] [--outputs OUT.pt]
//                [--perf-report] [--perf-json FILE]
//
// The artifact's generated CUDA (compiled for the CPU against cuda_emu.h)
// runs through the same plan runner a GPU would use, every CUDA thread a
// fiber; the outputs are compared with the TorchScript interpreter's.
// --perf-report counts what the kernels did (PerfReport.h) and prints it
// with a roofline estimate for an H100 and an H200.
//
//===----------------------------------------------------------------------===//
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "runtime/Artifact.h"
#include "runtime/TorchInterop.h"
#include "runtime/cuda/PlanRunner.h"
#include "tests/cuda_emu/EmuDevice.h"
#include "tests/cuda_emu/PerfReport.h"

namespace {

using namespace cocktail;

int failStatus(const ir::Status& status) {
  for (const ir::Diagnostic& d : status.diagnostics()) fmt::print(stderr, "{}\n", d.str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a CUDA artifact's generated kernels in the CPU emulation harness.", "cuda-emu-run"};
  std::string artifactPath, inputsPath, outputsPath, reference, sourcePath, perfJson;
  bool perfReport = false;
  double rtol = 1e-4;
  cuda_emu::EmuOptions options;
  app.add_option("artifact", artifactPath, "A .cocktail file written by cocktail-compile --target cuda")->required();
  app.add_option("--inputs", inputsPath, "The inputs, as a list saved by torch.save")->required();
  app.add_option("--reference", reference, "Compare with this TorchScript model on the same inputs; exit 1 beyond --rtol");
  app.add_option("--rtol", rtol, "max |a-b| / max |b| allowed (default 1e-4)");
  app.add_option("--outputs", outputsPath, "Write the outputs here (torch.load reads them)");
  app.add_option("--blocks", options.persistentBlocks, "Blocks of a persistent launch (default 4)");
  app.add_option("--threads", options.blockThreads, "Threads per block, a multiple of 32 (default 64)");
  app.add_option("--work-dir", options.workDir, "Keep the emulated module's source and library here");
  app.add_option("--source", sourcePath,
                 "Run this CUDA source instead of the artifact's (same kernels and layout): for testing the\n"
                 "harness itself, e.g. that it notices a missing barrier");
  app.add_flag("--perf-report", perfReport,
               "Count global-memory sectors, shared-memory bank conflicts, grid barriers, tile waits and flops per\n"
               "kernel (an instrumented build of the module, a few times slower) and print them with a roofline\n"
               "estimate of the time on an H100 and an H200");
  app.add_option("--perf-json", perfJson, "With --perf-report: also write the counts, stage by stage, as JSON here");
  CLI11_PARSE(app, argc, argv);

  auto artifact = runtime::loadArtifact(artifactPath);
  if (!artifact) return failStatus(artifact.status());
  const runtime::TargetCode* code = artifact->codeFor("cuda");
  if (!code) return failStatus(ir::Status::error(fmt::format("{} holds no CUDA code (compile with --target cuda)", artifactPath)));
  // As the CUDA runtime does: the stored plan (checked at load) runs the stored source.
  std::string source = code->source;
  if (!sourcePath.empty()) {
    std::ifstream in(sourcePath);
    if (!in) return failStatus(ir::Status::error(fmt::format("cannot read '{}'", sourcePath)));
    std::stringstream text;
    text << in.rdbuf();
    source = text.str();
  }
  if (!perfJson.empty() && !perfReport) return failStatus(ir::Status::error("--perf-json needs --perf-report"));
  options.countPerformance = perfReport;
  auto device = cuda_emu::EmuDevice::create(*code->cudaPlan, source, options);
  if (!device) return failStatus(device.status());
  runtime::cuda::PlanRunner runner(*code->cudaPlan, *artifact->program, **device);
  if (ir::Status st = runner.prepare(); !st.ok()) return failStatus(st);

  auto inputs = runtime::loadValuesFile(inputsPath);
  if (!inputs) return failStatus(inputs.status());
  std::vector<runtime::RuntimeValue> expected;
  if (!reference.empty()) {
    auto ref = runtime::runTorchScript(reference, *inputs);
    if (!ref) return failStatus(ref.status());
    expected = ref.take();
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto outputs = runner.run(*inputs);
  if (!outputs) return failStatus(outputs.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < outputs->size(); ++i) fmt::print("output {}: {}\n", i, runtime::describe((*outputs)[i]));
  fmt::print("emulated {} launches ({} blocks x {} threads when persistent) in {:.2f} s\n", (*device)->launches(),
             options.persistentBlocks, options.blockThreads, seconds);
  if (perfReport) {
    const std::vector<cuda_emu::GpuModel> gpus = {cuda_emu::h100(), cuda_emu::h200()};
    fmt::print("{}", cuda_emu::perfReportText((*device)->counts(), gpus));
    if (!perfJson.empty()) {
      std::ofstream out(perfJson);
      out << cuda_emu::perfReportJson((*device)->counts(), gpus) << "\n";
      if (!out) return failStatus(ir::Status::error(fmt::format("cannot write '{}'", perfJson)));
    }
  }
  if (!outputsPath.empty())
    if (ir::Status s = runtime::saveValuesFile(*outputs, outputsPath); !s.ok()) return failStatus(s);
  if (!reference.empty()) {
    runtime::Difference d = runtime::compareOutputs(*outputs, expected);
    if (!d.mismatch.empty()) {
      fmt::print(stderr, "cuda-emu-run: outputs differ from the reference: {}\n", d.mismatch);
      return 1;
    }
    const bool ok = d.maxRel <= rtol;
    fmt::print("reference: max abs error {:.3g}, max rel error {:.3g} ({} rtol {:g})\n", d.maxAbs, d.maxRel,
               ok ? "within" : "EXCEEDS", rtol);
    if (!ok) return 1;
  }
  return 0;
}
