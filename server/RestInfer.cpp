//===- server/RestInfer.cpp ----------------------------------------------------------===//
#include "server/RestInfer.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/DataType.h"
#include "server/ProtoJson.h"

namespace cocktail::server {
namespace {

using json = nlohmann::json;          // requests
using ojson = nlohmann::ordered_json;  // answers

/// Deeper "data" nesting than any tensor rank we serve is refused, so that
/// flattening a hostile body cannot exhaust the stack.
constexpr int kMaxDataDepth = 32;

std::string brief(const json& v) {
  std::string s = dumpJson(v);
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

Status flatten(const json& v, int depth, const std::string& where, std::vector<const json*>& out) {
  if (!v.is_array()) {
    out.push_back(&v);
    return Status::success();
  }
  if (depth >= kMaxDataDepth) return invalidArgument(fmt::format("{}: data is nested deeper than {} arrays", where, kMaxDataDepth));
  for (const json& e : v) COCKTAIL_SERVE_RETURN_IF_ERROR(flatten(e, depth + 1, where, out));
  return Status::success();
}

template <typename T>
void append(std::string& bytes, T v) {
  bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
}

/// One JSON element as the bytes of `dtype`.
Status appendElement(const json& e, ir::DType dtype, const std::string& where, size_t k, std::string& bytes) {
  auto wrong = [&](const char* kind) {
    return invalidArgument(fmt::format("{}: data[{}] is {}, not {}", where, k, brief(e), kind));
  };
  switch (dtype) {
    case ir::DType::I1:
      if (!e.is_boolean()) return wrong("true or false (BOOL)");
      bytes.push_back(e.get<bool>() ? 1 : 0);
      return Status::success();
    case ir::DType::I32:
      if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<uint64_t>() > INT32_MAX) ||
          e.get<int64_t>() < INT32_MIN || e.get<int64_t>() > INT32_MAX)
        return wrong("an integer in INT32's range");
      append(bytes, static_cast<int32_t>(e.get<int64_t>()));
      return Status::success();
    case ir::DType::I64:
      if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t(INT64_MAX)))
        return wrong("an integer in INT64's range");
      append(bytes, e.get<int64_t>());
      return Status::success();
    case ir::DType::F32: {
      if (!e.is_number()) return wrong("a number (FP32)");
      double d = e.get<double>();
      if (std::isfinite(d) && std::fabs(d) > FLT_MAX) return wrong("a number in FP32's range");
      append(bytes, static_cast<float>(d));
      return Status::success();
    }
    case ir::DType::U8:
      if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > 255)
        return wrong("an integer in 0..255 (UINT8)");
      bytes.push_back(static_cast<char>(e.get<uint8_t>()));
      return Status::success();
    case ir::DType::F64:
      if (!e.is_number()) return wrong("a number (FP64)");
      append(bytes, e.get<double>());
      return Status::success();
    case ir::DType::F16:
    case ir::DType::BF16: break;
  }
  return invalidArgument(fmt::format("{}: {} tensors cannot be sent as JSON numbers; send them as binary data "
                                     "(parameters.binary_data_size)",
                                     where, tritonDatatype(dtype)));
}

/// The number of elements `shape` holds, or nullopt when a dim is negative
/// or the product overflows (the shared validation says which).
std::optional<int64_t> elementCount(const inference::ModelInferRequest::InferInputTensor& in) {
  int64_t n = 1;
  for (int64_t d : in.shape())
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return std::nullopt;
  return n;
}

std::string shapeString(const inference::ModelInferRequest::InferInputTensor& in) {
  std::string s = "[";
  for (int i = 0; i < in.shape_size(); ++i) s += (i ? ", " : "") + std::to_string(in.shape(i));
  return s + "]";
}

Status decodeParameters(const json& params, const std::string& where,
                        google::protobuf::Map<std::string, inference::InferParameter>& out, RestOutputChoice* choice) {
  if (!params.is_object()) return invalidArgument(fmt::format("{}parameters must be a JSON object", where));
  for (const auto& [key, v] : params.items()) {
    if (choice && key == "binary_data_output") {
      if (!v.is_boolean()) return invalidArgument(fmt::format("parameters['binary_data_output'] must be true or false"));
      choice->binaryByDefault = v.get<bool>();
      continue;
    }
    inference::InferParameter p;
    if (v.is_boolean()) p.set_bool_param(v.get<bool>());
    else if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
      p.set_int64_param(v.get<int64_t>());
    else if (v.is_number_unsigned())
      p.set_uint64_param(v.get<uint64_t>());  // a sequence_id above INT64_MAX
    else if (v.is_string()) p.set_string_param(v.get<std::string>());
    else
      return invalidArgument(fmt::format("{}parameters['{}'] is {}; a parameter is a bool, an integer or a string", where,
                                         key, brief(v)));
    out[key] = p;
  }
  return Status::success();
}

std::optional<uint64_t> parseLength(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

/// Raw little-endian output bytes as a flat JSON array of `datatype`.
ojson rawToJson(const std::string& raw, const std::string& datatype) {
  ojson data = ojson::array();
  auto each = [&](auto zero, auto convert) {
    using T = decltype(zero);
    for (size_t i = 0; i + sizeof(T) <= raw.size(); i += sizeof(T)) {
      T v;
      std::memcpy(&v, raw.data() + i, sizeof v);
      data.push_back(convert(v));
    }
  };
  auto id = [](auto v) { return v; };
  auto halfToFloat = [](uint16_t h) {
    const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 31, man = h & 1023;
    float f = exp == 0    ? std::ldexp(float(man), -24)
              : exp == 31 ? (man ? NAN : INFINITY)
                          : std::ldexp(float(man | 1024), int(exp) - 25);
    return sign ? -f : f;
  };
  auto bf16ToFloat = [](uint16_t b) {
    uint32_t bits = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  };
  if (datatype == "BOOL") each(uint8_t{}, [](uint8_t v) { return v != 0; });
  else if (datatype == "UINT8")
    each(uint8_t{}, [](uint8_t v) { return unsigned{v}; });
  else if (datatype == "INT32") each(int32_t{}, id);
  else if (datatype == "INT64") each(int64_t{}, id);
  else if (datatype == "FP32") each(float{}, id);
  else if (datatype == "FP64") each(double{}, id);
  else if (datatype == "FP16") each(uint16_t{}, halfToFloat);
  else if (datatype == "BF16") each(uint16_t{}, bf16ToFloat);
  return data;
}

}  // namespace

Status decodeRestInfer(std::string_view body, std::optional<std::string_view> headerLength, const std::string& model,
                       const std::string& version, inference::ModelInferRequest& request, RestOutputChoice& choice) {
  size_t jsonLength = body.size();
  if (headerLength) {
    auto n = parseLength(*headerLength);
    if (!n) return invalidArgument(fmt::format("Inference-Header-Content-Length '{}' is not a byte count", *headerLength));
    if (*n > body.size())
      return invalidArgument(fmt::format("Inference-Header-Content-Length is {}, but the body has only {} bytes", *n, body.size()));
    jsonLength = *n;
  }
  json j;
  try {
    j = json::parse(body.substr(0, jsonLength));
  } catch (const json::exception& e) {
    return invalidArgument(fmt::format("the request body is not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) return invalidArgument("the request body must be a JSON object with \"inputs\"");
  request.set_model_name(model);
  request.set_model_version(version);
  if (auto it = j.find("id"); it != j.end()) {
    if (!it->is_string()) return invalidArgument(fmt::format("id is {}; it must be a string", brief(*it)));
    request.set_id(it->get<std::string>());
  }
  if (auto it = j.find("parameters"); it != j.end())
    COCKTAIL_SERVE_RETURN_IF_ERROR(decodeParameters(*it, "", *request.mutable_parameters(), &choice));

  const std::string_view binary = body.substr(jsonLength);
  size_t offset = 0;
  auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array()) return invalidArgument("the request needs \"inputs\": a JSON array of tensors");
  for (size_t i = 0; i < inputs->size(); ++i) {
    const json& t = (*inputs)[i];
    if (!t.is_object()) return invalidArgument(fmt::format("inputs[{}] must be a JSON object", i));
    auto name = t.find("name");
    if (name == t.end() || !name->is_string()) return invalidArgument(fmt::format("inputs[{}] needs a \"name\" string", i));
    const std::string where = fmt::format("inputs[{}] ('{}')", i, name->get<std::string>());
    auto datatype = t.find("datatype");
    if (datatype == t.end() || !datatype->is_string())
      return invalidArgument(fmt::format("{}: needs a \"datatype\" string (\"FP32\", \"INT64\", ...)", where));
    auto shape = t.find("shape");
    if (shape == t.end() || !shape->is_array()) return invalidArgument(fmt::format("{}: needs a \"shape\" array", where));
    auto* in = request.add_inputs();
    in->set_name(name->get<std::string>());
    in->set_datatype(datatype->get<std::string>());
    for (const json& d : *shape) {
      if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t(INT64_MAX)))
        return invalidArgument(fmt::format("{}: shape {} holds {}, not an integer", where, brief(*shape), brief(d)));
      in->add_shape(d.get<int64_t>());
    }
    std::string* raw = request.add_raw_input_contents();

    std::optional<uint64_t> binarySize;
    if (auto params = t.find("parameters"); params != t.end()) {
      if (!params->is_object()) return invalidArgument(fmt::format("{}: parameters must be a JSON object", where));
      if (auto b = params->find("binary_data_size"); b != params->end()) {
        if (!b->is_number_unsigned()) return invalidArgument(fmt::format("{}: binary_data_size is {}, not a byte count", where, brief(*b)));
        binarySize = b->get<uint64_t>();
      }
    }
    auto data = t.find("data");
    if (binarySize) {
      if (data != t.end()) return invalidArgument(fmt::format("{}: has both \"data\" and binary_data_size; give one", where));
      if (*binarySize > binary.size() - offset)
        return invalidArgument(fmt::format("{}: binary_data_size is {}, but only {} bytes of binary data are left after "
                                           "the JSON (Inference-Header-Content-Length)",
                                           where, *binarySize, binary.size() - offset));
      raw->assign(binary.substr(offset, *binarySize));
      offset += *binarySize;
      continue;
    }
    if (data == t.end())
      return invalidArgument(fmt::format("{}: has neither \"data\" nor parameters.binary_data_size", where));
    auto dtype = dtypeFromTriton(in->datatype());
    if (!dtype) continue;  // the shared validation names the datatype the model takes
    std::vector<const json*> elements;
    COCKTAIL_SERVE_RETURN_IF_ERROR(flatten(*data, 0, where, elements));
    if (auto n = elementCount(*in); n && *n != static_cast<int64_t>(elements.size()))
      return invalidArgument(fmt::format("{}: data has {} elements, but shape {} needs {}", where, elements.size(),
                                         shapeString(*in), *n));
    raw->reserve(elements.size() * ir::dtypeSize(*dtype));
    for (size_t k = 0; k < elements.size(); ++k)
      COCKTAIL_SERVE_RETURN_IF_ERROR(appendElement(*elements[k], *dtype, where, k, *raw));
  }
  if (offset != binary.size())
    return invalidArgument(fmt::format("the body has {} bytes of binary data after the JSON, but the inputs' "
                                       "binary_data_size add up to {}",
                                       binary.size(), offset));

  if (auto outputs = j.find("outputs"); outputs != j.end()) {
    if (!outputs->is_array()) return invalidArgument("\"outputs\" must be a JSON array");
    for (size_t i = 0; i < outputs->size(); ++i) {
      const json& o = (*outputs)[i];
      auto name = o.is_object() ? o.find("name") : o.end();
      if (!o.is_object() || name == o.end() || !name->is_string())
        return invalidArgument(fmt::format("outputs[{}] must be a JSON object with a \"name\" string", i));
      request.add_outputs()->set_name(name->get<std::string>());
      auto params = o.find("parameters");
      if (params == o.end()) continue;
      if (!params->is_object()) return invalidArgument(fmt::format("outputs[{}]: parameters must be a JSON object", i));
      if (params->contains("classification"))
        return invalidArgument(fmt::format("outputs[{}] ('{}'): parameters.classification is not supported", i,
                                           name->get<std::string>()));
      if (auto b = params->find("binary_data"); b != params->end()) {
        if (!b->is_boolean()) return invalidArgument(fmt::format("outputs[{}]: binary_data must be true or false", i));
        choice.binary.emplace_back(name->get<std::string>(), b->get<bool>());
      }
    }
  }
  return Status::success();
}

RestBody encodeRestInfer(const inference::ModelInferResponse& response, const RestOutputChoice& choice) {
  ojson j = ojson::object();
  j["model_name"] = response.model_name();
  j["model_version"] = response.model_version();
  if (!response.id().empty()) j["id"] = response.id();
  ojson outputs = ojson::array();
  std::string tail;
  bool anyBinary = false;
  for (int k = 0; k < response.outputs_size(); ++k) {
    const auto& out = response.outputs(k);
    const std::string& raw = k < response.raw_output_contents_size() ? response.raw_output_contents(k) : std::string();
    ojson o = {{"name", out.name()}, {"datatype", out.datatype()}, {"shape", ojson(std::vector<int64_t>(out.shape().begin(), out.shape().end()))}};
    bool binary = choice.binaryByDefault;
    for (const auto& [name, b] : choice.binary)
      if (name == out.name()) binary = b;
    if (binary) {
      anyBinary = true;
      o["parameters"] = {{"binary_data_size", raw.size()}};
      tail += raw;
    } else {
      o["data"] = rawToJson(raw, out.datatype());
    }
    outputs.push_back(std::move(o));
  }
  j["outputs"] = std::move(outputs);
  RestBody result;
  result.body = dumpJson(j);
  if (anyBinary) {
    result.jsonLength = result.body.size();
    result.body += tail;
  }
  return result;
}

}  // namespace cocktail::server
