//===- runtime/TorchScriptExecutor.cpp --------------------------------------------------===//
#include "runtime/TorchScriptExecutor.h"

#include <filesystem>

#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

#include "runtime/AtenTensor.h"
#include "runtime/TorchSchema.h"

namespace cocktail::runtime {
namespace {

/// How many values a result of type `t` flattens to; nullopt for a type the
/// server cannot return (lists, dicts, optionals, strings, ...).
std::optional<size_t> flatCount(const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::TensorType:
    case c10::TypeKind::IntType:
    case c10::TypeKind::FloatType:
    case c10::TypeKind::BoolType: return 1;
    case c10::TypeKind::TupleType: {
      size_t n = 0;
      for (const c10::TypePtr& e : t->containedTypes()) {
        auto k = flatCount(e);
        if (!k) return std::nullopt;
        n += *k;
      }
      return n;
    }
    default: return std::nullopt;
  }
}

void flatten(const c10::IValue& v, std::vector<c10::IValue>& out) {
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) flatten(e, out);
  } else {
    out.push_back(v);
  }
}

/// The interpreter's message without its TorchScript traceback: the line
/// that says what went wrong (for a `raise` in the model, the model's message).
std::string interpreterMessage(const std::exception& e) {
  std::string what = e.what();
  if (const auto* c10Error = dynamic_cast<const c10::Error*>(&e)) what = c10Error->what_without_backtrace();
  std::vector<std::string> lines;
  for (size_t start = 0; start <= what.size();) {
    size_t end = what.find('\n', start);
    if (end == std::string::npos) end = what.size();
    std::string line = what.substr(start, end - start);
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) return "unknown error";
  // "The following operation failed in the TorchScript interpreter." is
  // followed by the traceback; the error itself is the last line.
  if (lines.front().find("failed in the TorchScript interpreter") != std::string::npos) return lines.back();
  return lines.front();
}

class TorchScriptExecutor final : public Executor {
 public:
  TorchScriptExecutor(torch::jit::Module module, Signature signature, size_t numOutputs, TorchScriptOptions options)
      : module_(std::move(module)),
        method_(module_.get_method(options.method)),
        signature_(std::move(signature)),
        numOutputs_(numOutputs),
        options_(std::move(options)) {}

  const Signature& signature() const override { return signature_; }
  std::string device() const override { return "cpu"; }

  using Executor::run;
  /// The interpreter cannot be stopped once it runs: the control is checked
  /// before it starts (Triton's PyTorch backend does no better).
  ir::Expected<std::vector<RuntimeValue>> run(const std::vector<RuntimeValue>& inputs,
                                              const RunControl& control) override {
    COCKTAIL_RETURN_IF_ERROR(signature_.check(inputs));
    if (auto why = control.stopReason()) return ir::Status::error(fmt::format("not started: {}", *why));
    std::vector<c10::IValue> args;
    args.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ir::Type& type = signature_.inputs[i].type;
      // A float argument given as an int is still a float inside.
      if (type.isScalar() && type.dtype() == ir::DType::F64 && std::holds_alternative<int64_t>(inputs[i]))
        args.emplace_back(static_cast<double>(std::get<int64_t>(inputs[i])));
      else
        args.push_back(toIValue(inputs[i]));  // copies tensors: the model may write into its inputs
    }
    c10::IValue result;
    try {
      // As Triton's PyTorch backend runs a model: optimized execution, inference mode, no grad.
      torch::jit::GraphOptimizerEnabledGuard optimize(options_.optimize);
      c10::InferenceMode inference(options_.inferenceMode);
      torch::NoGradGuard noGrad;
      result = method_(std::move(args));
    } catch (const std::exception& e) {
      // Not told apart from a bug yet: a model's `raise` here stays internal.
      return ir::Status::error(fmt::format("the TorchScript interpreter failed: {}", interpreterMessage(e)), {},
                               ir::ErrorKind::Internal);
    }
    std::vector<c10::IValue> flat;
    flatten(result, flat);
    if (flat.size() != numOutputs_)
      return ir::Status::error(fmt::format("{} returned {} values, its signature says {}", options_.method, flat.size(),
                                           numOutputs_),
                               {}, ir::ErrorKind::Internal);
    std::vector<RuntimeValue> outputs;
    outputs.reserve(flat.size());
    for (const c10::IValue& v : flat) {
      auto rv = fromIValue(v);
      if (!rv) return rv.status();
      outputs.push_back(rv.take());
    }
    return outputs;
  }

 private:
  torch::jit::Module module_;
  torch::jit::Method method_;
  Signature signature_;
  size_t numOutputs_;
  TorchScriptOptions options_;
};

}  // namespace

ir::Expected<std::unique_ptr<Executor>> createTorchScriptExecutor(const std::string& modelPath,
                                                                  const std::vector<ir::InputSpec>& inputs,
                                                                  const std::vector<ir::Symbol>& symbols,
                                                                  const TorchScriptOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(modelPath, ec))
    return ir::Status::error(fmt::format("cannot open model '{}': no such file", modelPath));
  torch::jit::Module module;
  try {
    c10::InferenceMode inference(options.inferenceMode);
    module = torch::jit::load(modelPath, c10::Device(c10::kCPU));
  } catch (const std::exception& e) {
    return ir::Status::error(fmt::format(
        "'{}' is not a TorchScript file (torch::jit::load failed: {}); save one with "
        "torch.jit.save(torch.jit.script(model), path)",
        modelPath, interpreterMessage(e)));
  }
  module.eval();
  auto method = module.find_method(options.method);
  if (!method) return ir::Status::error(fmt::format("model '{}' has no method '{}'", modelPath, options.method));
  const c10::FunctionSchema& schema = method->function().getSchema();

  // The signature: the specs in the method's argument order.
  auto ordered = matchSpecsToArguments(schema, inputs, "input spec");
  if (!ordered) return ordered.status();
  Signature sig;
  sig.symbols = symbols;
  sig.inputs = std::move(*ordered);

  if (schema.returns().size() != 1)
    return ir::Status::error(fmt::format("{} of '{}' must return one value, it returns {}", options.method, modelPath,
                                         schema.returns().size()));
  const c10::TypePtr& returns = schema.returns().front().type();
  auto numOutputs = flatCount(returns);
  if (!numOutputs)
    return ir::Status::error(fmt::format(
        "{} of '{}' returns {}: the TorchScript backend serves tensors, ints, floats, bools and tuples of them",
        options.method, modelPath, returns->repr_str()));
  for (size_t i = 0; i < *numOutputs; ++i) sig.outputNames.push_back(fmt::format("OUTPUT__{}", i));

  return std::unique_ptr<Executor>(
      std::make_unique<TorchScriptExecutor>(std::move(module), std::move(sig), *numOutputs, options));
}

}  // namespace cocktail::runtime
