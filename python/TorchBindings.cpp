//===- python/TorchBindings.cpp - libcocktail_torch: Cocktail inside PyTorch -------===//
//
// Registers `torch.classes.cocktail.Model`, a compiled model that PyTorch code
// (eager Python, TorchScript, C++ with this library loaded) calls like a
// module, and `torch.ops.cocktail.compile`. A Model pickles as its artifact's
// bytes, so a scripted module that holds one saves with torch.jit.save and
// loads with torch.jit.load, artifact included.
//
//===----------------------------------------------------------------------===//
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/custom_class.h>
#include <torch/library.h>
#include <torch/script.h>

#include "driver/Compile.h"
#include "runtime/Artifact.h"
#include "runtime/AtenTensor.h"
#include "runtime/CpuExecutor.h"
#include "runtime/TorchInterop.h"

namespace cocktail::python {

namespace {

[[noreturn]] void raise(const ir::Status& status) { throw std::runtime_error(status.str()); }

at::Tensor bytesToTensor(const std::string& bytes) {
  at::Tensor t = at::empty({static_cast<int64_t>(bytes.size())}, at::TensorOptions().dtype(at::kByte));
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

std::string tensorToBytes(const at::Tensor& t, const char* what) {
  if (t.scalar_type() != at::kByte || t.dim() != 1)
    throw std::invalid_argument(fmt::format("{}: expected a 1-d uint8 tensor of artifact bytes, got {} {}", what,
                                            c10::toString(t.scalar_type()), c10::str(t.sizes())));
  at::Tensor c = t.contiguous().cpu();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

}  // namespace

/// A loaded artifact and the executor that runs it.
class Model : public torch::CustomClassHolder {
 public:
  Model(std::string bytes, const std::string& name) : bytes_(std::move(bytes)) {
    auto artifact = runtime::deserializeArtifact(bytes_, name);
    if (!artifact) raise(artifact.status());
    artifact_ = artifact.take();
    auto exec = runtime::createCpuExecutor(artifact_.program, runtime::torchScriptIslands());
    if (!exec) raise(exec.status());
    executor_ = exec.take();
  }

  static c10::intrusive_ptr<Model> fromPath(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot open artifact '{}': {}", path, std::strerror(errno)));
    std::stringstream ss;
    ss << in.rdbuf();
    return c10::make_intrusive<Model>(ss.str(), path);
  }

  /// Runs the model. Scalar arguments (int, float, bool) come as one-element
  /// tensors; scalar results go back as 0-d tensors.
  std::vector<at::Tensor> forward(const std::vector<at::Tensor>& inputs) {
    const runtime::Signature& sig = executor_->signature();
    if (inputs.size() != sig.inputs.size())
      throw std::invalid_argument(fmt::format("expected {} inputs for {}, got {}", sig.inputs.size(), sig.str(), inputs.size()));
    std::vector<runtime::RuntimeValue> values;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const ir::Type& type = sig.inputs[i].type;
      const at::Tensor& t = inputs[i];
      if (!type.isScalar()) {
        values.emplace_back(runtime::fromAten(t));
        continue;
      }
      if (t.numel() != 1)
        throw std::invalid_argument(fmt::format("input '{}' is a scalar ({}); pass a one-element tensor, got shape {}",
                                                sig.inputs[i].name, ir::dtypeName(type.dtype()), c10::str(t.sizes())));
      switch (type.dtype()) {
        case ir::DType::I64: values.emplace_back(t.item<int64_t>()); break;
        case ir::DType::I1: values.emplace_back(t.item<bool>()); break;
        default: values.emplace_back(t.item<double>()); break;
      }
    }
    auto outputs = executor_->run(values);
    if (!outputs) raise(outputs.status());
    std::vector<at::Tensor> result;
    for (const runtime::RuntimeValue& v : *outputs) {
      const runtime::Tensor* t = std::get_if<runtime::Tensor>(&v);
      result.push_back(t ? runtime::toAten(*t) : scalarTensor(v));
    }
    return result;
  }

  std::vector<std::string> inputSpecs() const {
    std::vector<std::string> out;
    for (const ir::InputSpec& s : executor_->signature().inputs) out.push_back(s.str());
    return out;
  }
  int64_t numOutputs() const { return static_cast<int64_t>(artifact_.program->resultTypes().size()); }
  std::string device() const { return executor_->device(); }
  std::string target() const { return artifact_.target; }
  std::vector<std::string> fallbacks() const {
    std::vector<std::string> out;
    for (const auto& f : artifact_.fallbacks) out.push_back(fmt::format("{} at {}", f.op, f.location));
    return out;
  }
  at::Tensor bytes() const { return bytesToTensor(bytes_); }
  void save(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes_.data(), static_cast<std::streamsize>(bytes_.size()));
    if (!out) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }

 private:
  static at::Tensor scalarTensor(const runtime::RuntimeValue& v) {
    if (const int64_t* i = std::get_if<int64_t>(&v)) return at::scalar_tensor(*i, at::kLong);
    if (const double* d = std::get_if<double>(&v)) return at::scalar_tensor(*d, at::kDouble);
    if (const bool* b = std::get_if<bool>(&v)) return at::scalar_tensor(*b, at::kBool);
    throw std::runtime_error("the model produced an output without a value");
  }

  std::string bytes_;
  runtime::Artifact artifact_;
  std::unique_ptr<runtime::Executor> executor_;
};

/// torch.ops.cocktail.compile(model_path, input_specs, target, strict)
///   -> (artifact bytes as uint8 tensor, fallback warnings)
std::tuple<at::Tensor, std::vector<std::string>> compile(const std::string& modelPath,
                                                         const std::vector<std::string>& inputSpecs,
                                                         const std::string& target, bool strict) {
  driver::CompileOptions options;
  options.inputSpecs = inputSpecs;
  options.target = target;
  options.strict = strict;
  auto compiled = driver::compileTorchScript(modelPath, options);
  if (!compiled) raise(compiled.status());
  std::vector<std::string> warnings;
  for (const auto& f : compiled->fallbacks) warnings.push_back(driver::describeFallback(f, modelPath));
  return {bytesToTensor(runtime::serializeArtifact(compiled->artifact)), warnings};
}

TORCH_LIBRARY(cocktail, m) {
  m.class_<Model>("Model")
      .def(torch::init([](const std::string& path) { return Model::fromPath(path); }))
      .def_static("from_bytes",
                  [](const at::Tensor& bytes) { return c10::make_intrusive<Model>(tensorToBytes(bytes, "Model.from_bytes"), "<bytes>"); })
      .def("forward", &Model::forward)
      .def("input_specs", &Model::inputSpecs)
      .def("num_outputs", &Model::numOutputs)
      .def("device", &Model::device)
      .def("target", &Model::target)
      .def("fallbacks", &Model::fallbacks)
      .def("bytes", &Model::bytes)
      .def("save", &Model::save)
      .def_pickle([](const c10::intrusive_ptr<Model>& self) -> at::Tensor { return self->bytes(); },
                  [](at::Tensor state) { return c10::make_intrusive<Model>(tensorToBytes(state, "unpickling a cocktail.Model"), "<pickle>"); });
  m.def("compile(str model, str[] inputs, str target='auto', bool strict=False) -> (Tensor, str[])", &compile);
}

}  // namespace cocktail::python
