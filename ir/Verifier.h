//===- ir/Verifier.h - Structural and type invariants of a Program ----------===//
//
// Checks what every pass may assume: op arity against OpDefs.def, required
// attributes and their kinds, SSA visibility (a use is dominated by its
// definition: earlier in the same region or in an enclosing one), region
// terminators, the typing rules of `loop`, `if`, `return`, `weight` and
// `constant`, that every symbol a type names is declared, and then the
// schedule (ir/ScheduleVerifier.h: every schedule attribute and the memory
// plan). Runs after every pass in debug builds and in tests, and on every
// artifact loaded (runtime/Artifact.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string_view>
#include <vector>

#include "ir/Program.h"
#include "ir/SourceMap.h"
#include "ir/Status.h"

namespace cocktail::ir {

struct VerifyOptions {
  /// When set (from the parser), diagnostics point at the op's position in
  /// the IR text; the op's own location then shows in the note.
  const SourceMap* sourceMap = nullptr;
};

/// All problems found, each a diagnostic at the op ("'loop' op expects ...")
/// with a note showing the op as printed. Success when there are none.
Status verifyProgram(const Program& program);
Status verifyProgram(const Program& program, const VerifyOptions& options);

/// One attribute an op takes; the table mirrors the comments in OpDefs.def.
struct AttrSpec {
  std::string_view name;
  AttrKind kind;
  bool required;
};

/// The attributes `kind` takes (required and optional).
std::vector<AttrSpec> attrSpecs(OpKind kind);

}  // namespace cocktail::ir
