//===- frontend/Frontend.cpp - Loading, freezing and translating a model ---------===//
#include "frontend/Frontend.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/serialization/import.h>

#include "frontend/GraphTranslator.h"
#include "frontend/Specialize.h"
#include "runtime/TorchSchema.h"

namespace cocktail::frontend {

namespace {

ir::Expected<torch::jit::Module> loadModule(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return ir::Status::error(fmt::format("cannot open model '{}': no such file", path));
  if (std::filesystem::is_directory(path, ec))
    return ir::Status::error(fmt::format("cannot open model '{}': it is a directory", path));
  try {
    return torch::jit::load(path);
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::string first = what.substr(0, what.find('\n'));
    return ir::Status::error(fmt::format(
        "'{}' is not a TorchScript file (torch::jit::load failed: {}); save one with torch.jit.save(torch.jit.script(model), path)",
        path, first));
  }
}

std::string specHint(const std::string& name, const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::IntType: return name + ":i64";
    case c10::TypeKind::FloatType: return name + ":f64";
    case c10::TypeKind::BoolType: return name + ":i1";
    case c10::TypeKind::OptionalType: return name + ":none";  // the one Optional form the compiler takes
    default: return name + ":f32[...]";
  }
}

}  // namespace

ir::Expected<std::string> describeSignature(const std::string& modelPath, const std::string& method) {
  auto m = loadModule(modelPath);
  if (!m) return m.status();
  auto fn = m->find_method(method);
  if (!fn) return ir::Status::error(fmt::format("model '{}' has no method '{}'", modelPath, method));
  return runtime::describeArguments(fn->function().getSchema());
}

ir::Expected<Translation> translateTorchScriptFile(const std::string& modelPath,
                                                   const std::vector<ir::InputSpec>& inputs,
                                                   const std::vector<ir::Symbol>& symbols,
                                                   const FrontendOptions& options) {
  auto loaded = loadModule(modelPath);
  if (!loaded) return loaded.status();
  torch::jit::Module module = loaded.take();
  if (!module.find_method(options.method))
    return ir::Status::error(fmt::format("model '{}' has no method '{}'", modelPath, options.method));
  const c10::FunctionSchema schema = module.get_method(options.method).function().getSchema();

  // Match the input specs with the method's arguments by name.
  auto ordered = runtime::matchSpecsToArguments(schema, inputs, "--input", [](const c10::Argument& arg) {
    return "; for example --input " + specHint(arg.name(), arg.type());
  });
  if (!ordered) return ordered.status();
  std::vector<ir::Type> argTypes;
  std::vector<std::string> argNames;
  std::vector<bool> absent;
  for (const ir::InputSpec& spec : *ordered) {
    argNames.push_back(spec.name);
    argTypes.push_back(spec.type);
    absent.push_back(spec.absent);
  }

  auto program = std::make_unique<ir::Program>();
  program->funcName() = options.method;
  program->symbols() = symbols;
  GraphTranslator translator(*program, options);
  try {
    module.eval();
    // Freezing keeps only forward unless told otherwise (Tacotron2.infer).
    c10::optional<std::vector<std::string>> keep;
    if (options.method != "forward") keep = std::vector<std::string>{options.method};
    torch::jit::Module frozen = torch::jit::freeze(module, keep, /*optimize_numerics=*/true);
    std::shared_ptr<torch::jit::Graph> graph = frozen.get_method(options.method).graph()->copy();
    torch::jit::Inline(*graph);
    // An argument declared absent (NAME:none) is the constant None: its
    // `is None` tests fold and the branches that need it go away.
    bool anyAbsent = false;
    for (size_t i = 0; i < absent.size(); ++i)
      if (absent[i]) {
        torch::jit::Value* arg = graph->inputs().at(i + 1);  // input 0 is the module
        torch::jit::WithInsertPoint at(graph->block()->nodes().front());
        arg->replaceAllUsesWith(graph->insertConstant(c10::IValue()));
        anyAbsent = true;
      }
    if (anyAbsent) torch::jit::ConstantPropagation(graph);
    torch::jit::RemoveTensorMutation(graph);
    torch::jit::EliminateDeadCode(graph);
    std::string specialized;
    specializeOnInputs(graph, argTypes, options.onSpecialized ? &specialized : nullptr);
    if (options.onSpecialized) options.onSpecialized(specialized);
    translator.run(*graph, argTypes, argNames, absent);
  } catch (const TranslationError& e) {
    return ir::Status::error(e.op.empty() ? e.message : fmt::format("{}: {}", e.op, e.message), e.loc, e.kind);
  } catch (const c10::Error& e) {
    return ir::Status::error(fmt::format("TorchScript could not prepare '{}': {}", modelPath, e.what_without_backtrace()));
  }
  Translation t;
  t.program = std::move(program);
  t.fallbacks = translator.fallbacks();
  for (size_t i = 0; i < argNames.size(); ++i)
    if (!absent[i]) t.argumentNames.push_back(argNames[i]);
  return t;
}

}  // namespace cocktail::frontend
