//===- server/ProtoJson.cpp ----------------------------------------------------------===//
#include "server/ProtoJson.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

namespace cocktail::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s : {18, 12, 6, 0}) out += table[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// One value of `field` (element `index` when repeated, -1 otherwise).
nlohmann::ordered_json fieldValue(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64: return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_UINT32: return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT64: return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FieldDescriptor::CPPTYPE_DOUBLE: return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT: return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_BOOL: return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      return f->type() == FieldDescriptor::TYPE_BYTES ? base64(s) : s;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return protoToJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return nullptr;
}

}  // namespace

nlohmann::ordered_json protoToJson(const Message& m) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const Reflection* r = m.GetReflection();
  for (int i = 0; i < m.GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* f = m.GetDescriptor()->field(i);
    // Scalars print even at their default ({"count": 0, "ns": 0}: clients read
    // them by name), lists even when empty; messages and oneof members when set.
    const bool optionalKind = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE || f->containing_oneof();
    if (!f->is_repeated() && optionalKind && !r->HasField(m, f)) continue;
    if (f->is_map()) {
      nlohmann::ordered_json map = nlohmann::ordered_json::object();
      const int n = r->FieldSize(m, f);
      for (int e = 0; e < n; ++e) {
        const Message& entry = r->GetRepeatedMessage(m, f, e);
        const FieldDescriptor* key = entry.GetDescriptor()->map_key();
        const FieldDescriptor* value = entry.GetDescriptor()->map_value();
        nlohmann::ordered_json k = fieldValue(entry, key, -1);
        map[k.is_string() ? k.get<std::string>() : k.dump()] = fieldValue(entry, value, -1);
      }
      out[f->name()] = std::move(map);
    } else if (f->is_repeated()) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      const int n = r->FieldSize(m, f);
      for (int e = 0; e < n; ++e) list.push_back(fieldValue(m, f, e));
      out[f->name()] = std::move(list);
    } else {
      out[f->name()] = fieldValue(m, f, -1);
    }
  }
  return out;
}

std::string dumpJson(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string dumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cocktail::server
