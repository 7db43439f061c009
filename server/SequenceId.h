//===- server/SequenceId.h - A sequence's correlation ID ----------------------------===//
//
// Triton's correlation ID: a request's `sequence_id` parameter, either a
// number (uint64) or a string. 0 and "" mean the request is not part of a
// sequence. A number and a string are different IDs even when they read the
// same ("7" is not 7), as in Triton.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace cocktail::server {

struct SequenceId {
  uint64_t number = 0;
  std::string text;
  bool isText = false;

  bool empty() const { return isText ? text.empty() : number == 0; }
  /// As messages show it: 7, or 'abc'.
  std::string str() const { return isText ? "'" + text + "'" : std::to_string(number); }
  bool operator==(const SequenceId& other) const {
    return isText == other.isText && number == other.number && text == other.text;
  }
};

struct SequenceIdHash {
  size_t operator()(const SequenceId& id) const {
    return id.isText ? std::hash<std::string>()(id.text) : std::hash<uint64_t>()(id.number);
  }
};

}  // namespace cocktail::server
