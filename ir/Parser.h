//===- ir/Parser.h - Reading the textual form of the uTask IR ---------------===//
//
// Reads what Printer.h writes. Errors are returned, never thrown or
// asserted, whatever the input: each is one diagnostic
// "buffer:line:col: error: expected ..., got ...", and parsing stops there.
// The parser checks syntax and names only (every use names a value defined
// earlier in the text, no name is defined twice); the rest is the
// verifier's job, so that invalid IR can be written down in tests.
//
//   program  := (`symbol` NAME `<=` INT | `weight` @NAME `:` type)*
//               `func` @NAME `(` args? `)` `->` `(` types? `)` `{` op* `}`
//   op       := (%name (`,` %name)* `=`)? MNEMONIC (`(` %name, ... `)`)?
//               literal? (`{` attr (`,` attr)* `}`)? (`:` type (`,` type)*)?
//               region* (`loc` `(` STRING (`:` INT (`:` INT)?)? `)`)?
//   region   := (`else`)? `{` (`^` `(` args `)` `:`)? op* `}`
//   args     := %name `:` type (`,` %name `:` type)*
//   attr     := (NAME | STRING) `=` value
//   value    := INT | FLOAT | `nan` | `inf` | `-inf` | `true` | `false` |
//               STRING | `[` INT, ... `]` | DTYPE
//   type     := `i64` | `f64` | `i1` | DTYPE `[` (`*` | dim (`,` dim)*)? `]` | `tensor`
//   dim      := INT | NAME | `?`        (NAME: [A-Za-z_][A-Za-z0-9_]*)
//
// `literal` is only read after `constant`: it is the `value` attribute
// (`%c = constant 0 : i64`). `//` starts a comment that runs to the end of
// the line. Names are unique in the whole function, and each becomes the
// name hint of its value so that printing gives the same names back.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <string_view>

#include "ir/Program.h"
#include "ir/SourceMap.h"
#include "ir/Status.h"

namespace cocktail::ir {

/// Parses a whole program. `bufferName` prefixes diagnostics.
Expected<std::unique_ptr<Program>> parseProgram(std::string_view text,
                                                std::string_view bufferName = "<input>");

/// Same, and records in `sourceMap` (when not null) where each op and
/// declaration was written.
Expected<std::unique_ptr<Program>> parseProgram(std::string_view text, std::string_view bufferName,
                                                SourceMap* sourceMap);

}  // namespace cocktail::ir
