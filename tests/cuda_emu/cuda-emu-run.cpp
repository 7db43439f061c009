//===- tests/cuda_emu/cuda-emu-run.cpp - Run a CUDA artifact's kernels on the CPU ----------===//
//
//   cuda-emu-run MODEL.cocktail --inputs IN.pt [--reference MODEL.pt] [--rtol 1e-4]
//                [--blocks 4] [--threads 64] [--outputs OUT.pt]
//
// The artifact's generated CUDA (compiled for the CPU against cuda_emu.h)
// runs through the same plan runner a GPU would use, every CUDA thread a
// fiber; the outputs are compared with the TorchScript interpreter's.
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

namespace {

using namespace cocktail;

int failStatus(const ir::Status& status) {
  for (const ir::Diagnostic& d : status.diagnostics()) fmt::print(stderr, "{}\n", d.str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a CUDA artifact's generated kernels in the CPU emulation harness.", "cuda-emu-run"};
  std::string artifactPath, inputsPath, outputsPath, reference, sourcePath;
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
