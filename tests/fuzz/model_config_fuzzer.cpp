//===- tests/fuzz/model_config_fuzzer.cpp - config.pbtxt -------------------------===//
//
// Any bytes as a model's config.pbtxt: the text parser and cocktail-serve's
// checks (backend, input specs, and, for a config that passes those, the
// config against a compiled model's signature in Model::create) must refuse
// with a message, never crash.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "ir/InputSpec.h"
#include "ir/Parser.h"
#include "runtime/CpuExecutor.h"
#include "server/Model.h"
#include "server/ModelConfig.h"

namespace {
/// The model every config is checked against: a batched tensor and a scalar.
constexpr char kProgram[] = R"(symbol B <= 4
symbol T <= 8
func @forward(%xs: f32[B,T,3], %steps: i64) -> (f32[B,T,3], i64) {
  %y = neg(%xs) : f32[B,T,3]
  return(%y, %steps)
}
)";

std::shared_ptr<const cocktail::ir::Program> program() {
  static const std::shared_ptr<const cocktail::ir::Program> p = [] {
    auto parsed = cocktail::ir::parseProgram(kProgram, "model_config_fuzzer");
    if (!parsed) abort();
    return std::shared_ptr<const cocktail::ir::Program>(parsed.take());
  }();
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every bad string it parses; the fuzzer would print little else.
  static const google::protobuf::LogSilencer quiet;
  using namespace cocktail;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = server::parseModelConfig(text, "config.pbtxt", "model");
  if (!config) return 0;
  (void)server::backendFromConfig(*config);
  if (auto specs = server::inputSpecsFromConfig(*config)) {
    std::vector<ir::Symbol> symbols;
    (void)ir::parseInputSpecs(*specs, &symbols);
  }
  // Each instance is a thread: keep the run short where a config asks for many.
  int instances = 0;
  for (const auto& g : config->instance_group()) instances += g.count() > 0 ? g.count() : 1;
  if (instances > 4) return 0;
  server::ModelSpec spec;
  spec.name = "model";
  spec.config = *config;
  spec.createExecutor = [](const server::InstancePlacement&) { return runtime::createCpuExecutor(program(), nullptr); };
  if (auto model = server::Model::create(std::move(spec), nullptr)) (*model)->stop();
  return 0;
}
