//===- bench/cpp/cocktail-bench.cpp - Time Cocktail and the TorchScript interpreter ----===//
//
//   cocktail-bench --artifact M.b1.cocktail --model M.pt --inputs M.b1.inputs.pt
//                  --expected M.b1.expected.pt [--threads 1,2] [--systems cocktail,torchscript]
//                  [--budget 5] [--min-repeat 5] [--max-repeat 50] [--json out.json]
//
// Both systems run in this one process on the same input tensors, timed the
// same way (steady_clock around one forward, after warm-up), for each thread
// setting asked for. Thread settings are applied in-process: OpenBLAS
// (openblas_set_num_threads: the Cocktail CPU kernels' GEMM, and LibTorch's
// "generic" BLAS, which is OpenBLAS through Debian's libblas.so.3
// alternative), Cocktail's worker pool (runtime/cpu/WorkerPool.h) and
// at::set_num_threads (LibTorch's OpenMP pool, oneDNN).
//
// TorchScript runs the way Triton's PyTorch backend runs it: torch::jit::load,
// eval, torch::NoGradGuard, the profiling graph executor (the default) warmed
// up with several runs. A second variant, torch::jit::freeze followed by
// torch::jit::optimize_for_inference (TorchScript's own graph optimizations),
// is timed too; the JSON has both and the harness keeps the faster.
//
// Each system's first output is compared with the expected outputs (the
// TorchScript interpreter's, written by bench/models/export.py) before any
// time counts. The result is one JSON object on stdout (or --json FILE).
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "runtime/Artifact.h"
#include "runtime/AtenTensor.h"
#include "runtime/CpuExecutor.h"
#include "runtime/TorchInterop.h"
#include "runtime/cpu/WorkerPool.h"

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

namespace {

using namespace cocktail;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Protocol {
  int warmup = 3;        // at least this many untimed runs
  double warmupSec = 0.5;  // and keep warming up until this much time was spent (capped at 20 runs)
  double budgetSec = 5;  // timed runs: about this much time,
  int minRepeat = 5;     // but at least this many
  int maxRepeat = 50;    // and at most this many
};

double processCpuSec() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Warm-up, then timed runs; `once` throws on failure. `bestMs` (0: none) is the best median of
/// this system's settings so far: a setting whose warm-up run takes over 5x that (the first two
/// runs: over 20x, or over 5x and over a second), or whose last untimed run over 3x, is abandoned (on a loaded 2-core machine a 2-thread OpenMP setting
/// can be 10-50x slower, and timing it fully would cost minutes).
json measure(const std::function<void()>& once, const Protocol& p, double bestMs = 0) {
  auto w0 = Clock::now();
  int warm = 0;
  double first = 0;
  auto abandon = [&](double ms, double factor) {
    return json{{"abandoned", fmt::format("an untimed run took {:.0f} ms, over {:g}x the best setting's median "
                                          "({:.1f} ms); not timed further", ms, factor, bestMs)},
                {"first_ms", first * 1e3}, {"abandoned_ms", ms}};
  };
  while (warm < p.warmup || (since(w0) < p.warmupSec && warm < 20)) {
    auto t0 = Clock::now();
    once();
    double dt = since(t0);
    if (warm == 0) first = dt;
    ++warm;
    // The first run may carry one-time costs (thread pools, profiling, JIT optimization: milliseconds to
    // a few hundred): it alone must be over 20x, or over 5x and longer than a second.
    double ms = dt * 1e3;
    // So may the second (the profiling executor optimizes the graph on its second call).
    if (bestMs > 0 && warm <= 2 && (ms > 20 * bestMs || (ms > 5 * bestMs && ms > 1000))) return abandon(ms, 5);
    if (bestMs > 0 && warm > 2 && ms > 5 * bestMs) return abandon(ms, 5);
  }
  // Size the timed runs from the last untimed run (the third at least: p.warmup >= 2).
  auto t0 = Clock::now();
  once();
  double one = std::max(since(t0), 1e-6);
  if (bestMs > 0 && one * 1e3 > 3 * bestMs) return abandon(one * 1e3, 3);
  int reps = std::clamp(int(p.budgetSec / one), p.minRepeat, p.maxRepeat);
  std::vector<double> ms;
  ms.reserve(reps);
  double cpu0 = processCpuSec();
  auto wall0 = Clock::now();
  for (int i = 0; i < reps; ++i) {
    auto s = Clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  double wall = since(wall0), cpu = processCpuSec() - cpu0;
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double q) {
    // nearest-rank percentile
    size_t k = size_t(std::ceil(q * sorted.size()));
    return sorted[std::min(sorted.size() - 1, k == 0 ? 0 : k - 1)];
  };
  return json{{"median_ms", pct(0.5)},  {"p90_ms", pct(0.9)},      {"min_ms", sorted.front()},
              {"reps", reps},           {"warmup", warm + 1},      {"first_ms", first * 1e3},
              {"cpu_util", cpu / wall}, {"samples_ms", ms}};
}

std::vector<int> parseInts(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(std::stoi(item));
  return out;
}

void setThreads(int n) {
  openblas_set_num_threads(n);
  runtime::cpu::setNumWorkers(n);
  at::set_num_threads(n);
}

json checkOutputs(const std::vector<runtime::RuntimeValue>& got, const std::vector<runtime::RuntimeValue>& want,
                  double rtol) {
  runtime::Difference d = runtime::compareOutputs(got, want);
  json j{{"max_abs", d.maxAbs}, {"max_rel", d.maxRel}, {"rtol", rtol}};
  if (!d.mismatch.empty()) {
    j["ok"] = false;
    j["error"] = d.mismatch;
  } else {
    j["ok"] = d.maxRel <= rtol;
    if (!j["ok"].get<bool>()) j["error"] = fmt::format("max rel error {:.3g} exceeds {:g}", d.maxRel, rtol);
  }
  return j;
}

std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

void flattenIValue(const c10::IValue& v, std::vector<c10::IValue>& out) {
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) flattenIValue(e, out);
  } else if (v.isList()) {
    for (const auto& e : v.toListRef()) flattenIValue(e, out);
  } else {
    out.push_back(v);
  }
}

std::vector<runtime::RuntimeValue> toRuntime(const c10::IValue& result) {
  std::vector<c10::IValue> flat;
  flattenIValue(result, flat);
  std::vector<runtime::RuntimeValue> out;
  for (const auto& v : flat) {
    auto rv = runtime::fromIValue(v);
    if (!rv) throw std::runtime_error("output: " + rv.status().str());
    out.push_back(rv.take());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time a Cocktail artifact and the TorchScript interpreter (LibTorch) on the same inputs; print JSON.",
               "cocktail-bench"};
  std::string artifactPath, modelPath, inputsPath, expectedPath, jsonPath, threadsArg = "1,2",
                                                                           systemsArg = "cocktail,torchscript";
  std::string tsVariantsArg = "loaded,frozen";
  double rtol = 1e-4;
  Protocol p;
  app.add_option("--artifact", artifactPath, "The .cocktail file (for the cocktail system)");
  app.add_option("--model", modelPath, "The TorchScript .pt file (for the torchscript system)");
  app.add_option("--inputs", inputsPath, "torch.save'd list of forward arguments")->required();
  app.add_option("--expected", expectedPath, "torch.save'd list of expected outputs (TorchScript's)")->required();
  app.add_option("--threads", threadsArg, "Comma-separated thread counts to try (default 1,2)");
  app.add_option("--systems", systemsArg, "cocktail,torchscript (default both)");
  app.add_option("--ts-variants", tsVariantsArg,
                 "TorchScript variants: loaded (as Triton runs it), frozen (freeze + optimize_for_inference)");
  app.add_option("--rtol", rtol, "Max relative error against the expected outputs (default 1e-4)");
  app.add_option("--warmup", p.warmup, "Minimum warm-up runs (default 3)");
  app.add_option("--warmup-sec", p.warmupSec, "Warm up for at least this long, capped at 20 runs (default 0.5)");
  app.add_option("--budget", p.budgetSec, "Seconds of timed runs per setting (default 5)");
  app.add_option("--min-repeat", p.minRepeat, "Minimum timed runs (default 5)");
  app.add_option("--max-repeat", p.maxRepeat, "Maximum timed runs (default 50)");
  app.add_option("--json", jsonPath, "Write the JSON here instead of stdout");
  bool prune = false;
  app.add_flag("--prune", prune, "TorchScript: past the first thread count, time only the fastest variant so far");
  CLI11_PARSE(app, argc, argv);

  at::set_num_interop_threads(1);
  std::vector<int> threads = parseInts(threadsArg);
  std::vector<std::string> systems, tsVariants;
  {
    std::stringstream ss(systemsArg);
    for (std::string s; std::getline(ss, s, ',');) systems.push_back(s);
    std::stringstream vs(tsVariantsArg);
    for (std::string s; std::getline(vs, s, ',');) tsVariants.push_back(s);
  }

  json result;
  // Written after every finished setting (with --json), so that a run stopped by a timeout
  // still leaves the settings it finished.
  auto emit = [&]() {
    if (jsonPath.empty()) return true;
    std::string tmp = jsonPath + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return false;
    std::string text = result.dump(1);
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return std::rename(tmp.c_str(), jsonPath.c_str()) == 0;
  };
  result["profiling_mode"] = torch::jit::getProfilingMode().load();
  result["torch_version"] = TORCH_VERSION;
  {
    int saved = openblas_get_num_threads();
    result["openblas_default_threads"] = saved;
  }

  auto inputs = runtime::loadValuesFile(inputsPath);
  auto expected = runtime::loadValuesFile(expectedPath);
  if (!inputs || !expected) {
    fmt::print(stderr, "cocktail-bench: cannot read {}\n", !inputs ? inputsPath : expectedPath);
    return 2;
  }

  for (const std::string& system : systems) {
    json sys{{"runs", json::array()}};
    try {
      if (system == "cocktail") {
        auto artifact = runtime::loadArtifact(artifactPath);
        if (!artifact) throw std::runtime_error(artifact.status().str());
        sys["fallbacks"] = artifact->fallbacks.size();
        auto executor = runtime::createCpuExecutor(artifact->program, runtime::torchScriptIslands());
        if (!executor) throw std::runtime_error(executor.status().str());
        runtime::Executor& ex = **executor;
        auto once = [&]() {
          auto r = ex.run(*inputs);
          if (!r) throw std::runtime_error(r.status().str());
          return r.take();
        };
        setThreads(threads.front());
        sys["check"] = checkOutputs(once(), *expected, rtol);
        double best = 0;
        if (sys["check"]["ok"].get<bool>())
          for (int n : threads) {
            setThreads(n);
            json m = measure([&] { once(); }, p, best);
            if (m.contains("median_ms")) best = best > 0 ? std::min(best, m["median_ms"].get<double>()) : m["median_ms"].get<double>();
            m["threads"] = n;
            m["variant"] = "cpu-executor";
            sys["runs"].push_back(m);
            result["systems"][system] = sys;
            emit();
          }
      } else if (system == "torchscript") {
        torch::NoGradGuard noGrad;
        // The inputs as IValues, made once: every run gets the same tensors. A
        // model that writes into its inputs (attention's caches) rewrites the
        // same slots with the same values, so the runs stay identical.
        std::vector<c10::IValue> args;
        for (const auto& v : *inputs) args.push_back(runtime::toIValue(v));
        json checks = json::object();
        bool anyOk = false;
        double best = 0;
        // Load and check every variant first; then time thread count by thread count.
        std::vector<std::pair<std::string, torch::jit::Module>> modules;
        for (const std::string& variant : tsVariants) {
          torch::jit::Module module = torch::jit::load(modelPath);
          module.eval();
          if (variant == "frozen") {
            module = torch::jit::freeze(module);
            module = torch::jit::optimize_for_inference(module);
          } else if (variant != "loaded") {
            throw std::runtime_error("unknown TorchScript variant " + variant);
          }
          setThreads(threads.front());
          // A fresh copy of the inputs for the checked run.
          std::vector<c10::IValue> fresh;
          for (const auto& v : *inputs) fresh.push_back(runtime::toIValue(v));
          json check;
          try {
            check = checkOutputs(toRuntime(module.forward(fresh)), *expected, rtol);
          } catch (const std::exception& e) {
            check = json{{"ok", false}, {"error", firstLine(e.what())}};
          }
          checks[variant] = check;
          if (!check["ok"].get<bool>()) continue;
          anyOk = true;
          modules.emplace_back(variant, module);
        }
        std::string bestVariant;
        for (int n : threads) {
          for (auto& [variant, module] : modules) {
            // --prune: past the first thread count, only the variant that was fastest so far.
            if (prune && n != threads.front() && !bestVariant.empty() && variant != bestVariant) continue;
            setThreads(n);
            json m = measure([&, &module = module] { module.forward(args); }, p, best);
            if (m.contains("median_ms") && (best == 0 || m["median_ms"].get<double>() < best)) {
              best = m["median_ms"].get<double>();
              bestVariant = variant;
            }
            m["threads"] = n;
            m["variant"] = variant;
            sys["runs"].push_back(m);
            sys["variant_checks"] = checks;
            sys["check"] = checks[variant];
            result["systems"][system] = sys;
            emit();
          }
        }
        sys["variant_checks"] = checks;
        // The loaded module is the reference itself; report the check of the first variant that passed.
        for (const std::string& variant : tsVariants)
          if (checks[variant]["ok"].get<bool>()) {
            sys["check"] = checks[variant];
            break;
          }
        if (!anyOk) sys["check"] = checks[tsVariants.front()];
      } else {
        throw std::runtime_error("unknown system " + system);
      }
    } catch (const std::exception& e) {
      sys["error"] = firstLine(e.what());
    }
    result["systems"][system] = sys;
  }

  if (jsonPath.empty()) {
    fmt::print("{}\n", result.dump(1));
  } else if (!emit()) {
    fmt::print(stderr, "cocktail-bench: cannot write {}\n", jsonPath);
    return 2;
  }
  return 0;
}
