//===- ir/Location.h - Where an op came from --------------------------------===//
//
// The TorchScript source position an op was translated from, so that every
// diagnostic (verifier, fallback report, runtime error) can name the line of
// the user's model. Printed as `loc("model.py":12)`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace cocktail::ir {

struct Location {
  std::string file;
  int64_t line = 0;
  int64_t column = 0;  // 0: unknown; set for positions in IR text (parser diagnostics)

  bool known() const { return !file.empty(); }
  /// "model.py:12", "input.ir:3:7", or "unknown location".
  std::string str() const;
  bool operator==(const Location&) const = default;
};

}  // namespace cocktail::ir
