//===- ir/SourceMap.h - Where a parsed program's pieces were written --------===//
//
// The parser can record the text position (buffer, line, column) of every op
// and declaration it reads. Tools that check diagnostics against the input
// text (`cocktail-opt --verify-diagnostics`) hand it to the verifier so that
// errors point at the line of the IR file rather than the op's TorchScript
// location, which then goes into a note.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <unordered_map>
#include <vector>

#include "ir/Location.h"

namespace cocktail::ir {

class Op;

struct SourceMap {
  std::unordered_map<const Op*, Location> ops;
  Location func;                  // the `func` line
  std::vector<Location> symbols;  // parallel to Program::symbols()
  std::vector<Location> weights;  // parallel to Program::weights()

  /// The recorded position of `op`, or an unknown location.
  Location of(const Op& op) const {
    auto it = ops.find(&op);
    return it == ops.end() ? Location{} : it->second;
  }
};

}  // namespace cocktail::ir
