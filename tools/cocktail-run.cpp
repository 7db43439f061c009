//===- tools/cocktail-run.cpp - Run a compiled model on saved inputs ------------------===//
//
//   cocktail-run OUT.cocktail --inputs INPUTS.pt [--outputs OUT.pt]
//                [--reference MODEL.pt] [--repeat N]
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "runtime/Artifact.h"
#include "runtime/CpuExecutor.h"
#include "runtime/Signature.h"
#include "runtime/TorchInterop.h"
#include "tools/ExitCode.h"
#if COCKTAIL_HAVE_CUDA
#include "runtime/cuda/CudaExecutor.h"
#include "runtime/cuda/DeviceQuery.h"
#endif

namespace {

using namespace cocktail;

using tools::ExitCode;

int failStatus(const ir::Status& status) {
  for (const ir::Diagnostic& d : status.diagnostics()) fmt::print(stderr, "{}\n", d.str());
  return tools::exitStatus(status.kind());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Run a compiled Cocktail model on inputs saved with torch.save.\n\n"
      "Example:\n"
      "  python3 -c \"import torch; torch.save([torch.randn(64, 1, 256)], 'in.pt')\"\n"
      "  cocktail-run lstm.cocktail --inputs in.pt --outputs out.pt --reference lstm.pt --repeat 20",
      "cocktail-run"};
  app.set_version_flag("--version", runtime::compilerVersion());
  std::string artifactPath, inputsPath, outputsPath, reference;
  int repeat = 0;
  double rtol = 1e-5;
  std::string device = "auto";
  bool quiet = false;
  app.add_option("artifact", artifactPath, "A .cocktail file written by cocktail-compile")->required();
  app.add_option("--inputs", inputsPath,
                 "The inputs, in forward's argument order, as a list saved by torch.save, e.g.\n"
                 "torch.save([xs, 10], 'in.pt') for forward(xs: Tensor, steps: int); a None for an argument\n"
                 "compiled as absent (--input lengths:none) goes to --reference only")
      ->required();
  app.add_option("--outputs", outputsPath, "Write the outputs here as a list that torch.load reads, e.g. --outputs out.pt");
  app.add_option("--reference", reference,
                 "Also run this TorchScript model (the method it was compiled from, forward by default)\n"
                 "on the same inputs, print the max abs and rel error, and exit 1 if the relative error\n"
                 "exceeds --rtol, e.g. --reference lstm.pt. Outputs that are None are left out, as the\n"
                 "compiled model leaves them out");
  app.add_option("--rtol", rtol, "Tolerance for --reference: max |a-b| / max |b| (default 1e-5)");
  app.add_option("--repeat", repeat, "Run N more times after the first and print the median and p90 time, e.g. --repeat 20")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", device, "cpu, cuda or auto (default: the best this machine and artifact support)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  app.add_flag("-q,--quiet", quiet, "Do not print the outputs' shapes");
  double timeoutSeconds = 0;
  app.add_option("--timeout", timeoutSeconds,
                 "Stop a run that takes longer than this many seconds (checked between loop steps on the\n"
                 "CPU; a CUDA run is checked before it starts), e.g. --timeout 2.5; 0: no limit")
      ->check(CLI::NonNegativeNumber);
  runtime::RunControl control;
  app.add_option("--max-loop-trips", control.maxLoopTrips,
                 fmt::format("Refuse a loop whose trip count is over N before it starts, and stop a while loop\n"
                             "at N steps (default {})", runtime::RunControl::kDefaultMaxLoopTrips))
      ->check(CLI::PositiveNumber);
  app.footer(
      "Environment:\n"
      "  COCKTAIL_NUM_THREADS=N     CPU workers (default: one per hardware thread)\n"
      "  COCKTAIL_PROFILE=1         on exit, print the CPU executor's time per kind of op\n"
      "  COCKTAIL_PROFILE=shapes    the same, split by the ops' operand types (a fused\n"
      "                             convolution by its input and weight)\n\n" +
      tools::exitStatusHelp(/*withMismatch=*/true));
  if (auto done = tools::parseCommandLine(app, argc, argv)) return *done;

#if COCKTAIL_HAVE_CUDA
  const runtime::cuda::DeviceAvailability gpu = runtime::cuda::queryCudaDevice();
#else
  const struct {
    bool available = false;
    std::string description = "this build has no CUDA backend";
  } gpu;
#endif
  if (device == "cuda" && !gpu.available) {
    fmt::print(stderr, "cocktail-run: --device cuda: {}; use --device cpu\n", gpu.description);
    return tools::exitStatus(ExitCode::UserError);
  }

  auto artifact = runtime::loadArtifact(artifactPath);
  if (!artifact) return failStatus(artifact.status());
  for (const auto& f : artifact->fallbacks)
    if (!quiet) fmt::print(stderr, "note: {} runs as a TorchScript island ({})\n", f.op, f.location);

  // The GPU where asked for (or where auto finds one and the artifact has
  // CUDA code); otherwise the CPU, which a CUDA artifact supports too: it
  // carries its scheduled program.
  ir::Expected<std::unique_ptr<runtime::Executor>> executor = ir::Status::error("no executor");
  const bool useCuda = device == "cuda" || (device == "auto" && gpu.available && artifact->target == "cuda");
#if COCKTAIL_HAVE_CUDA
  if (useCuda) executor = runtime::cuda::createCudaExecutor(*artifact);
#endif
  if (useCuda && !executor) {
    fmt::print(stderr, "cocktail-run: cannot run {} on the GPU:\n", artifactPath);
    return failStatus(executor.status());
  }
  if (!useCuda) {
    if (artifact->target == "cuda" && !quiet)
      fmt::print(stderr, "cocktail-run: note: {} was compiled for CUDA; {}: running its scheduled program on the CPU\n",
                 artifactPath, gpu.description);
    executor = runtime::createCpuExecutor(artifact->program, runtime::torchScriptIslands());
  }
  if (!executor) return failStatus(executor.status());
  // No tensor larger than the signature's largest input can run, so none is
  // made dense: a stride-0 tensor in the file may claim any shape.
  const runtime::Signature signature = runtime::Signature::of(*artifact->program);
  runtime::ValuesFileLimits limits = runtime::ValuesFileLimits::ofMachine();
  if (signature.maxTensorInputBytes() < limits.maxTensorBytes)
    limits = {signature.maxTensorInputBytes(), fmt::format("the largest input of {} at its bounds", signature.str())};
  auto inputs = runtime::loadValuesFile(inputsPath, limits);
  if (!inputs) return failStatus(inputs.status());

  // The reference runs first, on its own copies: a model may write into its inputs.
  std::vector<runtime::RuntimeValue> expected;
  if (!reference.empty()) {
    // The method the artifact was compiled from (cocktail-compile --method).
    auto ref = runtime::runTorchScript(reference, *inputs, artifact->program->funcName());
    if (!ref) return failStatus(ref.status());
    expected = ref.take();
  }

  // A None stands for an argument compiled as absent (--input NAME:none): the
  // reference takes it, the compiled model does not.
  std::vector<runtime::RuntimeValue> present;
  for (const runtime::RuntimeValue& v : *inputs)
    if (!std::holds_alternative<std::monostate>(v)) present.push_back(v);
  // Each run gets the whole --timeout from its start.
  auto run = [&]() {
    if (timeoutSeconds > 0)
      control.deadline = runtime::RunControl::Clock::now() +
                         std::chrono::duration_cast<runtime::RunControl::Clock::duration>(
                             std::chrono::duration<double>(timeoutSeconds));
    return (*executor)->run(present, control);
  };
  auto outputs = run();
  if (!outputs) {
    fmt::print(stderr, "cocktail-run: the model failed on {}:\n", inputsPath);
    return failStatus(outputs.status());
  }
  if (!quiet)
    for (size_t i = 0; i < outputs->size(); ++i) fmt::print("output {}: {}\n", i, runtime::describe((*outputs)[i]));

  if (!outputsPath.empty())
    if (ir::Status s = runtime::saveValuesFile(*outputs, outputsPath); !s.ok()) return failStatus(s);

  if (repeat > 0) {
    std::vector<double> ms;
    for (int i = 0; i < repeat; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = run();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!r) return failStatus(r.status());
    }
    std::sort(ms.begin(), ms.end());
    fmt::print("time ({} runs on {}): median {:.3f} ms, p90 {:.3f} ms\n", repeat, (*executor)->device(),
               ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 9 / 10)]);
  }

  if (!reference.empty()) {
    runtime::Difference d = runtime::compareOutputs(*outputs, expected);
    if (!d.mismatch.empty()) {
      fmt::print(stderr, "cocktail-run: outputs differ from the reference: {}\n", d.mismatch);
      return tools::exitStatus(ExitCode::Mismatch);
    }
    bool ok = d.maxRel <= rtol;
    fmt::print("reference: max abs error {:.3g}, max rel error {:.3g} ({} rtol {:g})\n", d.maxAbs, d.maxRel,
               ok ? "within" : "EXCEEDS", rtol);
    if (!ok) return tools::exitStatus(ExitCode::Mismatch);
  }
  return 0;
}
