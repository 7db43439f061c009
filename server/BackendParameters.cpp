//===- server/BackendParameters.cpp --------------------------------------------------===//
#include "server/BackendParameters.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

namespace cocktail::server {
namespace {

std::optional<bool> parseBool(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  return std::nullopt;
}

std::optional<int> parseThreads(const std::string& v) {
  if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::stoi(v);
}

}  // namespace

runtime::TorchScriptOptions applyBackendParameters(const inference::ModelConfig& config, ModelBackend backend,
                                                   const std::string& where) {
  runtime::TorchScriptOptions options;
  const bool interp = backend == ModelBackend::TorchScript;
  const char* compiled = "not used: the model is compiled (cocktail.backend \"cocktail\")";
  for (const auto& [key, param] : config.parameters()) {
    const std::string& value = param.string_value();
    if (key.rfind("cocktail.", 0) == 0) continue;  // ours, read elsewhere
    auto ignore = [&](const std::string& why) { spdlog::info("{}: parameter {} \"{}\" ignored: {}", where, key, value, why); };
    auto unreadable = [&](const char* what) {
      spdlog::warn("{}: parameter {} \"{}\" ignored: not {}", where, key, value, what);
    };
    if (key == "INTRA_OP_THREAD_COUNT" || key == "INTER_OP_THREAD_COUNT") {
      auto n = parseThreads(value);
      if (!n) {
        unreadable("a thread count");
        continue;
      }
      if (!interp) {
        ignore("each compiled instance runs on one thread; instance_group count sets how many run at once");
        continue;
      }
      if (*n == 0) {
        ignore("0 keeps LibTorch's default");
        continue;
      }
      try {
        if (key == "INTRA_OP_THREAD_COUNT") at::set_num_threads(*n);
        else at::set_num_interop_threads(*n);
        spdlog::info("{}: parameter {} \"{}\": LibTorch's {} threads set to {} (process-wide, as in Triton)", where, key,
                     value, key == "INTRA_OP_THREAD_COUNT" ? "intra-op" : "inter-op", *n);
      } catch (const std::exception& e) {
        ignore(std::string("LibTorch refused it (the inter-op pool is set once per process): ") + e.what());
      }
    } else if (key == "DISABLE_OPTIMIZED_EXECUTION" || key == "INFERENCE_MODE") {
      auto b = parseBool(value);
      if (!b) {
        unreadable("true or false");
        continue;
      }
      if (!interp) {
        ignore(compiled);
        continue;
      }
      if (key == "DISABLE_OPTIMIZED_EXECUTION") options.optimize = !*b;
      else options.inferenceMode = *b;
      spdlog::info("{}: parameter {} \"{}\": the interpreter runs with {} {}", where, key, value,
                   key == "INFERENCE_MODE" ? "inference mode" : "graph optimization",
                   (key == "INFERENCE_MODE" ? *b : !*b) ? "on" : "off");
    } else if (key == "ENABLE_JIT_PROFILING" || key == "ENABLE_JIT_EXECUTOR" || key == "ENABLE_NVFUSER" ||
               key == "ENABLE_TENSOR_FUSER" || key == "ENABLE_WEIGHT_SHARING" || key == "ENABLE_CACHE_CLEANING" ||
               key == "ENABLE_CUDA_GRAPH" || key == "ENABLE_JIT_FUSER") {
      ignore(interp ? "the interpreter keeps LibTorch's profiling executor and fusers as they are; no GPU is used"
                    : compiled);
    } else {
      ignore("not a parameter cocktail-serve or Triton's PyTorch backend knows");
    }
  }
  return options;
}

}  // namespace cocktail::server
