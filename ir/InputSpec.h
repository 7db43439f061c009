//===- ir/InputSpec.h - `NAME:DTYPE[DIMS]` input specifications --------------===//
//
// How users describe a model's inputs, on the command line (`--input`), in a
// server's model config and from Python: `xs:f32[T<=128,4,64]` is a tensor
// whose first dim is the symbol T bounded by 128; `steps:i64` is a scalar.
// A symbol's bound is given once; later mentions may omit it (`T`).
// `lengths:none` declares an Optional argument absent: the model is compiled
// for it being None, and the compiled model does not take it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/Program.h"
#include "ir/Status.h"
#include "ir/Type.h"

namespace cocktail::ir {

struct InputSpec {
  std::string name;
  Type type = Type::scalar(DType::I64);
  /// Symbols whose bound this spec declares (`T<=128`).
  std::vector<Symbol> symbols;
  /// `NAME:none`: an Optional argument that is None (`type` means nothing then).
  bool absent = false;

  /// Back to the textual form.
  std::string str() const;
};

/// Parses one spec; the error names the spec and what is wrong with it.
Expected<InputSpec> parseInputSpec(std::string_view text);

/// Parses several specs and checks that every symbol has exactly one bound
/// (a symbol may appear in several specs; its bound must be given once, or
/// repeated identically).
Expected<std::vector<InputSpec>> parseInputSpecs(const std::vector<std::string>& texts,
                                                 std::vector<Symbol>* symbolsOut);

}  // namespace cocktail::ir
