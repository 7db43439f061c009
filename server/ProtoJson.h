//===- server/ProtoJson.h - Protocol messages as the REST API's JSON ------------------===//
//
// The REST API answers the same messages as gRPC (ModelConfig,
// ModelStatistics, ...) as JSON, the way Triton's HTTP endpoint does: proto
// field names, enums by name, maps as objects, and 64-bit integers as JSON
// numbers (protobuf's own JSON printer writes them as strings, which clients
// such as perf_analyzer do not read as numbers).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

namespace cocktail::server {

/// Every set field of `message`, recursively.
nlohmann::ordered_json protoToJson(const google::protobuf::Message& message);

/// `value` as text; bytes that are not UTF-8 are replaced, never thrown on.
/// (Answers are ordered_json, keys in the order written; requests are parsed
/// into json, whose std::map stays fast on hostile objects with many keys.)
std::string dumpJson(const nlohmann::ordered_json& value);
std::string dumpJson(const nlohmann::json& value);

}  // namespace cocktail::server
