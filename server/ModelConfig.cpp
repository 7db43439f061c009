//===- server/ModelConfig.cpp -------------------------------------------------------===//
#include "server/ModelConfig.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "ir/DType.h"
#include "server/DataType.h"

namespace cocktail::server {
namespace {

/// Collects the text parser's errors so that they reach the client and the log.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (text.empty()) text = fmt::format("line {}:{}: {}", line + 1, column + 1, message);
  }
  std::string text;
};

}  // namespace

int64_t instanceCount(const inference::ModelConfig& config) {
  int64_t count = 0;
  for (const auto& g : config.instance_group()) count += g.count() > 0 ? g.count() : 1;
  return std::max<int64_t>(count, 1);
}

int tensorIndexSuffix(const std::string& name) {
  size_t pos = name.rfind("__");
  if (pos == std::string::npos || pos + 2 >= name.size()) return -1;
  int v = 0;
  for (size_t i = pos + 2; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || v > 100000) return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

StatusOr<inference::ModelConfig> readModelConfig(const std::filesystem::path& modelDir, const std::string& name) {
  std::filesystem::path file = modelDir / "config.pbtxt";
  std::error_code ec;
  std::string text;
  if (std::filesystem::exists(file, ec)) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) return invalidArgument(fmt::format("{}: cannot read the file", file.string()));
    text = buffer.str();
  }
  return parseModelConfig(text, file.string(), name);
}

StatusOr<inference::ModelConfig> parseModelConfig(const std::string& text, const std::string& file,
                                                  const std::string& name) {
  inference::ModelConfig config;
  if (!text.empty()) {
    // A Triton scheduling mode cocktail-serve has no equivalent for.
    if (text.find("ensemble_scheduling") != std::string::npos)
      return invalidArgument(fmt::format("{}: ensemble_scheduling is not supported by cocktail-serve", file));
    google::protobuf::TextFormat::Parser parser;
    ErrorCollector errors;
    parser.RecordErrorsTo(&errors);
    parser.AllowUnknownField(true);  // Triton fields we do not act on (optimization, response_cache, ...)
    if (!parser.ParseFromString(text, &config))
      return invalidArgument(fmt::format("{}: {}", file, errors.text.empty() ? "not a ModelConfig" : errors.text));
  }
  if (config.name().empty()) config.set_name(name);
  if (config.name() != name)
    return invalidArgument(fmt::format("{}: name \"{}\" does not match the folder name \"{}\"", file,
                                       config.name(), name));
  const std::string& platform = config.platform();
  const std::string& backend = config.backend();
  if (!platform.empty() && platform != "pytorch_libtorch" && platform != "cocktail")
    return invalidArgument(fmt::format("{}: platform \"{}\" is not served by cocktail-serve (use pytorch_libtorch)",
                                       file, platform));
  if (!backend.empty() && backend != "pytorch" && backend != "cocktail")
    return invalidArgument(
        fmt::format("{}: backend \"{}\" is not served by cocktail-serve (use pytorch)", file, backend));
  if (config.max_batch_size() < 0)
    return invalidArgument(fmt::format("{}: max_batch_size must be >= 0, got {}", file, config.max_batch_size()));
  for (const auto& group : config.instance_group())
    if (group.count() < 0 || group.count() > 256)
      return invalidArgument(fmt::format("{}: instance_group count must be 0..256, got {}", file, group.count()));
  return config;
}

const char* backendName(ModelBackend backend) {
  return backend == ModelBackend::TorchScript ? "torchscript" : "cocktail";
}

StatusOr<ModelBackend> backendFromConfig(const inference::ModelConfig& config) {
  auto it = config.parameters().find(kBackendParameter);
  if (it == config.parameters().end()) return ModelBackend::Cocktail;
  const std::string& value = it->second.string_value();
  for (ModelBackend b : {ModelBackend::Cocktail, ModelBackend::TorchScript})
    if (value == backendName(b)) return b;
  return invalidArgument(fmt::format(
      "model '{}': parameter {} is \"{}\"; it must be \"cocktail\" (compile the model.pt, the default) or "
      "\"torchscript\" (run it with the TorchScript interpreter)",
      config.name(), kBackendParameter, value));
}

namespace {

/// The specs of the inputs sequence_batching feeds (they are not in the
/// config's `input`): a control is [1] (Triton's shape) and a state has the
/// state's dims, each after the batch dim when the model batches.
Status appendSequenceSpecs(const inference::ModelConfig& config,
                           const std::function<std::string(const std::string&)>& variableDim,
                           std::vector<std::string>& specs) {
  const std::string batch = config.max_batch_size() > 0 ? fmt::format("B<={},", config.max_batch_size()) : "";
  using Control = inference::ModelSequenceBatching::Control;
  for (const auto& ci : config.sequence_batching().control_input()) {
    if (ci.control().empty()) continue;  // the batcher reports it
    const Control& c = ci.control(0);
    const char* dtype = c.kind() == Control::CONTROL_SEQUENCE_CORRID
                            ? (c.data_type() == inference::TYPE_INT32 ? "i32" : "i64")
                        : !c.int32_false_true().empty() ? "i32"
                        : !c.fp32_false_true().empty()  ? "f32"
                                                        : "i1";
    specs.push_back(fmt::format("{}:{}[{}1]", ci.name(), dtype, batch));
  }
  for (const auto& st : config.sequence_batching().state()) {
    auto dtype = dtypeFromConfig(st.data_type());
    if (!dtype)
      return invalidArgument(fmt::format("model '{}': state '{}' has data_type {}, which cocktail-serve does not serve",
                                         config.name(), st.input_name(), inference::DataType_Name(st.data_type())));
    std::string dims = batch;
    for (int i = 0; i < st.dims_size(); ++i) {
      if (st.dims(i) == -1) {
        dims += variableDim(fmt::format("{}_d{}", st.input_name(), i + (batch.empty() ? 0 : 1)));
      } else {
        dims += std::to_string(st.dims(i));
      }
      dims += ",";
    }
    if (!dims.empty()) dims.pop_back();
    specs.push_back(fmt::format("{}:{}[{}]", st.input_name(), ir::dtypeName(*dtype), dims));
  }
  return Status::success();
}

}  // namespace

StatusOr<std::vector<std::string>> inputSpecsFromConfig(const inference::ModelConfig& config,
                                                        const VariableDimBounds& bounds,
                                                        std::vector<std::string>* variableSymbols) {
  std::vector<std::string> specs;
  // "xs_d0<=128": a symbol of its own per -1 dim (nothing in the config says two dims agree).
  auto variableDim = [&](const std::string& symbol) {
    if (variableSymbols) variableSymbols->push_back(symbol);
    auto grown = bounds.grown.find(symbol);
    return fmt::format("{}<={}", symbol, grown != bounds.grown.end() ? grown->second : bounds.defaultBound);
  };
  auto it = config.parameters().find(kInputsParameter);
  if (it != config.parameters().end()) {
    std::istringstream words(it->second.string_value());
    for (std::string w; words >> w;) specs.push_back(w);
    if (specs.empty())
      return invalidArgument(fmt::format("model '{}': parameter {} is empty", config.name(), kInputsParameter));
    return specs;
  }
  // No spec strings: every input needs a dtype and dims in the config.
  if (config.input().empty())
    return invalidArgument(fmt::format(
        "model '{}': a TorchScript model needs its inputs: add parameters {{ key: \"{}\" value {{ string_value: "
        "\"xs:f32[T<=128,4] steps:i64\" }} }} to config.pbtxt",
        config.name(), kInputsParameter));
  std::vector<const inference::ModelInput*> ordered;
  for (const auto& in : config.input()) ordered.push_back(&in);
  // INPUT__<n> names give the argument order; otherwise the config's order is forward's.
  bool indexed = true;
  for (const auto* in : ordered) indexed &= tensorIndexSuffix(in->name()) >= 0;
  if (indexed)
    std::stable_sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) {
      return tensorIndexSuffix(a->name()) < tensorIndexSuffix(b->name());
    });
  for (const auto* in : ordered) {
    auto dtype = dtypeFromConfig(in->data_type());
    if (!dtype)
      return invalidArgument(fmt::format("model '{}': input '{}' has data_type {}, which cocktail-serve does not serve",
                                         config.name(), in->name(), inference::DataType_Name(in->data_type())));
    std::string argName = in->name();
    for (char& c : argName)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    std::string dims;
    if (config.max_batch_size() > 0) dims = fmt::format("B<={}", config.max_batch_size());
    for (int i = 0; i < in->dims_size(); ++i) {
      const int64_t d = in->dims(i);
      if (d < -1)
        return invalidArgument(fmt::format("model '{}': input '{}' has dim {} = {}; a dim is -1 (variable) or >= 0",
                                           config.name(), in->name(), i, d));
      if (d == -1) {
        dims += (dims.empty() ? "" : ",") +
                variableDim(fmt::format("{}_d{}", argName, i + (config.max_batch_size() > 0 ? 1 : 0)));
        continue;
      }
      dims += (dims.empty() ? "" : ",") + std::to_string(d);
    }
    specs.push_back(fmt::format("{}:{}[{}]", argName, ir::dtypeName(*dtype), dims));
  }
  if (config.has_sequence_batching())
    COCKTAIL_SERVE_RETURN_IF_ERROR(appendSequenceSpecs(config, variableDim, specs));
  return specs;
}

}  // namespace cocktail::server
