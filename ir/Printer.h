//===- ir/Printer.h - The textual form of the uTask IR ----------------------===//
//
// Prints a Program as the text that Parser.h reads back; the two round-trip
// exactly (print(parse(print(p))) == print(p)). Values are named from their
// name hints, made unique across the whole function so that a dump can be
// grepped; values without a usable hint get fresh numbers. The grammar is
// documented in Parser.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <unordered_map>

#include "ir/Program.h"

namespace cocktail::ir {

struct PrintOptions {
  /// Print `loc("file.py":12)` after ops whose location is known.
  bool locations = true;
  /// Print regions as `{...}` (diagnostic notes only: the result does not parse).
  bool elideRegions = false;
};

/// The whole program: symbol and weight declarations, then the function.
std::string printProgram(const Program& program, const PrintOptions& options = {});

/// One op (with its regions, indented from column 0), no trailing newline.
/// Values are named as printProgram names them in the enclosing function.
std::string printOp(const Op& op);
std::string printOp(const Op& op, const PrintOptions& options);

/// The name `value` gets (with its `%`) when the function that contains
/// `context` is printed; for diagnostics about `context`'s operands.
std::string printValueName(const Value* value, const Op& context);

/// The name (without its `%`) printProgram gives each value of the function.
std::unordered_map<const Value*, std::string> printedValueNames(const Program& program);

/// True when `name` can follow `%` or `@` without quotes: [A-Za-z0-9_.$-]+.
bool isValidValueName(std::string_view name);

}  // namespace cocktail::ir
