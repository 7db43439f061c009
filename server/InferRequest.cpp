//===- server/InferRequest.cpp ------------------------------------------------------===//
#include "server/InferRequest.h"

#include <cstring>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "server/DataType.h"

namespace cocktail::server {
namespace {

using Input = inference::ModelInferRequest::InferInputTensor;

std::string shapeString(const google::protobuf::RepeatedField<int64_t>& shape) {
  std::string s = "[";
  for (int i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string expectedShape(const TensorInfo& t) {
  if (t.scalar) return "[1]";
  std::string s = "[";
  for (size_t d = 0; d < t.dims.size(); ++d) {
    s += d ? ", " : "";
    s += t.dims[d].isConstant() ? std::to_string(t.dims[d].value()) : fmt::format("{}<={}", t.dims[d].symbolName(), t.bounds[d]);
  }
  return s + "]";
}

std::string names(const std::vector<TensorInfo>& tensors) {
  std::string s;
  for (const TensorInfo& t : tensors)
    if (t.role == TensorRole::Request) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

/// How many typed elements an input carries, and in which field.
struct Typed {
  int count = 0;
  const char* field = nullptr;
};

/// The typed field each datatype belongs in, and how many elements are in it.
Status typedContents(const Input& in, ir::DType dtype, const std::string& where, Typed& typed) {
  const auto& c = in.contents();
  struct Field {
    const char* name;
    int size;
  };
  const Field fields[] = {{"bool_contents", c.bool_contents_size()},   {"int_contents", c.int_contents_size()},
                          {"int64_contents", c.int64_contents_size()}, {"uint_contents", c.uint_contents_size()},
                          {"uint64_contents", c.uint64_contents_size()}, {"fp32_contents", c.fp32_contents_size()},
                          {"fp64_contents", c.fp64_contents_size()},   {"bytes_contents", c.bytes_contents_size()}};
  const char* want = nullptr;
  switch (dtype) {
    case ir::DType::I1: want = "bool_contents"; break;
    case ir::DType::I32: want = "int_contents"; break;
    case ir::DType::I64: want = "int64_contents"; break;
    case ir::DType::U8: want = "uint_contents"; break;
    case ir::DType::F32: want = "fp32_contents"; break;
    case ir::DType::F64: want = "fp64_contents"; break;
    case ir::DType::F16:
    case ir::DType::BF16: want = nullptr; break;
  }
  for (const Field& f : fields) {
    if (f.size == 0) continue;
    if (!want || std::strcmp(f.name, want) != 0)
      return invalidArgument(
          want ? fmt::format("{}: {} data belongs in contents.{}, not contents.{}", where, tritonDatatype(dtype), want, f.name)
               : fmt::format("{}: {} data has no typed field; send it in raw_input_contents", where, tritonDatatype(dtype)));
    typed = {f.size, f.name};
  }
  if (!typed.field) typed.field = want ? want : "contents";
  return Status::success();
}

const void* typedData(const Input& in, ir::DType dtype) {
  const auto& c = in.contents();
  switch (dtype) {
    case ir::DType::I1: return c.bool_contents().data();
    case ir::DType::I32: return c.int_contents().data();
    case ir::DType::I64: return c.int64_contents().data();
    case ir::DType::F32: return c.fp32_contents().data();
    case ir::DType::F64: return c.fp64_contents().data();
    default: return nullptr;
  }
}

/// UINT8 travels as uint32 in contents.uint_contents, as Triton sends it: each
/// value must fit a byte.
Status narrowToUint8(const Input& in, const std::string& where, std::vector<uint8_t>& out) {
  const auto& values = in.contents().uint_contents();
  out.reserve(static_cast<size_t>(values.size()));
  for (int j = 0; j < values.size(); ++j) {
    if (values[j] > 255)
      return invalidArgument(
          fmt::format("{}: contents.uint_contents[{}] is {}, outside UINT8's range 0..255", where, j, values[j]));
    out.push_back(static_cast<uint8_t>(values[j]));
  }
  return Status::success();
}

runtime::RuntimeValue scalarValue(ir::DType dtype, const void* bytes) {
  switch (dtype) {
    case ir::DType::I64: {
      int64_t v;
      std::memcpy(&v, bytes, sizeof v);
      return v;
    }
    case ir::DType::F64: {
      double v;
      std::memcpy(&v, bytes, sizeof v);
      return v;
    }
    default: return *static_cast<const uint8_t*>(bytes) != 0;
  }
}

/// Longest string sequence_id accepted.
constexpr size_t kMaxSequenceIdBytes = 1024;

/// Triton's sequence parameters: `sequence_id` (int64, uint64 or string; 0 and
/// "" mean none), `sequence_start` and `sequence_end` (bool).
Status sequenceParameters(const inference::ModelInferRequest& request, const Model& model, SequenceRequest& out) {
  const auto& params = request.parameters();
  if (auto it = params.find("sequence_id"); it != params.end()) {
    const inference::InferParameter& p = it->second;
    switch (p.parameter_choice_case()) {
      case inference::InferParameter::kInt64Param:
        if (p.int64_param() < 0)
          return invalidArgument(fmt::format("parameters['sequence_id'] is {}; a sequence_id is a uint64 or a string",
                                             p.int64_param()));
        out.id.number = static_cast<uint64_t>(p.int64_param());
        break;
      case inference::InferParameter::kUint64Param: out.id.number = p.uint64_param(); break;
      case inference::InferParameter::kStringParam:
        if (p.string_param().size() > kMaxSequenceIdBytes)
          return invalidArgument(fmt::format("parameters['sequence_id'] is a string of {} bytes; at most {}",
                                             p.string_param().size(), kMaxSequenceIdBytes));
        out.id.isText = true;
        out.id.text = p.string_param();
        break;
      default: return invalidArgument("parameters['sequence_id'] must be an integer (uint64) or a string");
    }
  }
  for (auto [name, flag] : {std::pair{"sequence_start", &out.start}, std::pair{"sequence_end", &out.end}}) {
    auto it = params.find(name);
    if (it == params.end()) continue;
    if (it->second.parameter_choice_case() != inference::InferParameter::kBoolParam)
      return invalidArgument(fmt::format("parameters['{}'] must be a bool", name));
    *flag = it->second.bool_param();
  }
  if (!model.sequenceBatching() && (!out.id.empty() || out.start || out.end))
    return invalidArgument(fmt::format("parameters['{}']: model '{}' has no sequence_batching in its config.pbtxt, so "
                                       "its requests are independent; leave sequence_id, sequence_start and "
                                       "sequence_end out",
                                       !out.id.empty() ? "sequence_id" : out.start ? "sequence_start" : "sequence_end",
                                       model.name()));
  return Status::success();
}

}  // namespace

Status prepareJob(const inference::ModelInferRequest& request, const Model& model, InferJob& job,
                  std::map<std::string, int64_t>* grow) {
  const auto& inputs = model.inputs();
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size())
    return invalidArgument(fmt::format("raw_input_contents has {} entries but the request has {} inputs; give one per input",
                                       request.raw_input_contents_size(), request.inputs_size()));

  job.inputs.resize(inputs.size());
  std::vector<int> given(inputs.size(), -1);
  std::map<std::string, std::pair<int64_t, std::string>> symbols;  // symbol -> (value, where)

  for (int i = 0; i < request.inputs_size(); ++i) {
    const Input& in = request.inputs(i);
    size_t k = 0;
    while (k < inputs.size() && inputs[k].name != in.name() && inputs[k].alias != in.name()) ++k;
    if (k == inputs.size())
      return invalidArgument(fmt::format("inputs[{}]: unknown input '{}' for model '{}' (it takes: {})", i, in.name(),
                                         model.name(), names(inputs)));
    const TensorInfo& t = inputs[k];
    const std::string where = fmt::format("inputs[{}] ('{}')", i, in.name());
    if (t.role != TensorRole::Request)
      return invalidArgument(fmt::format("{}: is a sequence_batching {} of model '{}', filled by the server; leave it out",
                                         where, t.role == TensorRole::Control ? "control_input" : "state", model.name()));
    if (given[k] >= 0) return invalidArgument(fmt::format("{}: given twice, also as inputs[{}]", where, given[k]));
    given[k] = i;

    // datatype
    auto dtype = dtypeFromTriton(in.datatype());
    if (!dtype || *dtype != t.dtype)
      return invalidArgument(fmt::format("{}: datatype '{}' does not match the model's {}", where, in.datatype(),
                                         tritonDatatype(t.dtype)));

    // shape
    int64_t numel = 1;
    for (int d = 0; d < in.shape_size(); ++d) {
      if (in.shape(d) < 0) return invalidArgument(fmt::format("{}: dim {} is negative ({})", where, d, in.shape(d)));
      if (__builtin_mul_overflow(numel, in.shape(d), &numel))
        return invalidArgument(fmt::format("{}: shape {} is too large", where, shapeString(in.shape())));
    }
    if (t.scalar) {
      if (in.shape_size() > 1 || numel != 1)
        return invalidArgument(fmt::format("{}: shape {} does not match the model's [1] (a scalar)", where, shapeString(in.shape())));
    } else {
      if (in.shape_size() != static_cast<int>(t.dims.size()))
        return invalidArgument(fmt::format("{}: shape {} has rank {}, but the model takes rank {} {}", where,
                                           shapeString(in.shape()), in.shape_size(), t.dims.size(), expectedShape(t)));
      for (size_t d = 0; d < t.dims.size(); ++d) {
        const int64_t v = in.shape(d);
        if (t.dims[d].isConstant() && v != t.dims[d].value())
          return invalidArgument(fmt::format("{}: dim {} is {}, but the model takes {} {}", where, d, v, t.dims[d].value(),
                                             expectedShape(t)));
        if (!t.dims[d].isSymbol()) continue;
        if (v > t.bounds[d]) {
          const std::string& symbol = t.dims[d].symbolName();
          if (!grow || !model.growable(symbol))
            return invalidArgument(fmt::format("{}: dim {} is {}, above the bound {}<={} of {}", where, d, v, symbol,
                                               t.bounds[d], expectedShape(t)));
          if (v > model.maxDimBound())
            return invalidArgument(fmt::format("{}: dim {} is {}, above --max-dim-bound {}, the largest bound a -1 dim "
                                               "is recompiled for (the model is compiled for {}<={})",
                                               where, d, v, model.maxDimBound(), symbol, t.bounds[d]));
          int64_t& needed = (*grow)[symbol];
          needed = std::max(needed, v);
        }
        if (d == 0 && model.maxBatchSize() > 0 && (v < 1 || v > model.maxBatchSize()))
          return invalidArgument(fmt::format("{}: batch size {} is outside 1..{} (max_batch_size)", where, v, model.maxBatchSize()));
        auto [it, inserted] = symbols.emplace(t.dims[d].symbolName(), std::make_pair(v, fmt::format("{} dim {}", where, d)));
        if (!inserted && it->second.first != v)
          return invalidArgument(fmt::format("{}: dim {} is {}, but {} sets {} to {}", where, d, v, it->second.second,
                                             t.dims[d].symbolName(), it->second.first));
      }
    }

    // contents
    const int64_t elemSize = ir::dtypeSize(t.dtype);
    const void* data = nullptr;
    std::vector<uint8_t> uint8Values;
    Typed typed;
    COCKTAIL_SERVE_RETURN_IF_ERROR(typedContents(in, t.dtype, where, typed));
    if (raw) {
      if (typed.count > 0)
        return invalidArgument(fmt::format("{}: has typed contents.{} but the request also has raw_input_contents; use one or the other",
                                           where, typed.field));
      const std::string& bytes = request.raw_input_contents(i);
      if (static_cast<int64_t>(bytes.size()) != numel * elemSize)
        return invalidArgument(fmt::format("{}: raw_input_contents[{}] has {} bytes, but shape {} of {} needs {}", where, i,
                                           bytes.size(), shapeString(in.shape()), in.datatype(), numel * elemSize));
      data = bytes.data();
      if (t.dtype == ir::DType::I1)
        for (char c : bytes)
          if (c != 0 && c != 1) return invalidArgument(fmt::format("{}: BOOL bytes must be 0 or 1", where));
    } else {
      if (typed.count != numel)
        return invalidArgument(fmt::format("{}: contents.{} has {} elements, but shape {} needs {}{}", where, typed.field,
                                           typed.count, shapeString(in.shape()), numel,
                                           request.inputs_size() > 0 && typed.count == 0 ? " (no raw_input_contents either)" : ""));
      if (t.dtype == ir::DType::U8) {
        COCKTAIL_SERVE_RETURN_IF_ERROR(narrowToUint8(in, where, uint8Values));
        data = uint8Values.data();
      } else {
        data = typedData(in, t.dtype);
      }
    }
    if (t.scalar) {
      job.inputs[k] = scalarValue(t.dtype, data);
    } else {
      runtime::Shape shape(in.shape().begin(), in.shape().end());
      job.inputs[k] = runtime::Tensor::fromBytes(t.dtype, std::move(shape), data);
      if (model.maxBatchSize() > 0 && job.batchSize == 1) job.batchSize = in.shape(0);
    }
  }
  for (size_t k = 0; k < inputs.size(); ++k)
    if (given[k] < 0 && inputs[k].role == TensorRole::Request)
      return invalidArgument(fmt::format("missing input '{}' ({} {}) for model '{}'", inputs[k].name,
                                         tritonDatatype(inputs[k].dtype), expectedShape(inputs[k]), model.name()));

  // requested outputs
  const auto& outputs = model.outputs();
  for (int i = 0; i < request.outputs_size(); ++i) {
    const std::string& name = request.outputs(i).name();
    size_t k = 0;
    while (k < outputs.size() && outputs[k].name != name) ++k;
    if (k == outputs.size())
      return invalidArgument(fmt::format("outputs[{}]: unknown output '{}' for model '{}' (it has: {})", i, name,
                                         model.name(), names(outputs)));
    if (outputs[k].role != TensorRole::Request)
      return invalidArgument(fmt::format("outputs[{}]: output '{}' of model '{}' is an implicit state the server keeps; "
                                         "list it in config.pbtxt's output to request it",
                                         i, name, model.name()));
    for (int j : job.outputs)
      if (j == static_cast<int>(k)) return invalidArgument(fmt::format("outputs[{}]: output '{}' requested twice", i, name));
    job.outputs.push_back(static_cast<int>(k));
  }
  if (job.outputs.empty())
    for (size_t k = 0; k < outputs.size(); ++k)
      if (outputs[k].role == TensorRole::Request) job.outputs.push_back(static_cast<int>(k));
  COCKTAIL_SERVE_RETURN_IF_ERROR(sequenceParameters(request, model, job.sequence));

  // timeout
  std::chrono::microseconds timeout = model.defaultTimeout();
  if (auto it = request.parameters().find("timeout"); it != request.parameters().end()) {
    if (it->second.parameter_choice_case() != inference::InferParameter::kInt64Param || it->second.int64_param() < 0)
      return invalidArgument("parameters['timeout'] must be an int64_param of microseconds >= 0");
    timeout = std::chrono::microseconds(it->second.int64_param());
  }
  if (timeout.count() > 0) job.deadline = job.accepted + timeout;
  return Status::success();
}

void writeResponse(const inference::ModelInferRequest& request, const Model& model, const InferJob& job,
                   inference::ModelInferResponse& response) {
  response.set_model_name(model.name());
  response.set_model_version(model.versionString());
  response.set_id(request.id());
  for (int k : job.outputs) {
    const TensorInfo& info = model.outputs()[k];
    const runtime::RuntimeValue& v = job.results[k];
    auto* out = response.add_outputs();
    out->set_name(info.name);
    std::string* bytes = response.add_raw_output_contents();
    if (const auto* t = std::get_if<runtime::Tensor>(&v)) {
      out->set_datatype(std::string(tritonDatatype(t->dtype())));
      for (int64_t d : t->shape()) out->add_shape(d);
      bytes->assign(static_cast<const char*>(t->rawData()), t->nbytes());
      continue;
    }
    out->add_shape(1);
    if (const auto* i = std::get_if<int64_t>(&v)) {
      out->set_datatype("INT64");
      bytes->assign(reinterpret_cast<const char*>(i), sizeof *i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      out->set_datatype("FP64");
      bytes->assign(reinterpret_cast<const char*>(d), sizeof *d);
    } else {
      out->set_datatype("BOOL");
      bytes->assign(1, std::get_if<bool>(&v) && *std::get_if<bool>(&v) ? '\1' : '\0');
    }
  }
}

}  // namespace cocktail::server
