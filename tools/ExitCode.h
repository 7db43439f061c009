//===- tools/ExitCode.h - What the tools' exit statuses mean ---------------------------===//
//
// One table for cocktail-compile, cocktail-run and cocktail-opt. A failure's
// ir::ErrorKind decides its status, so that a script can tell input it got
// wrong (1) from a model that needs a construct Cocktail does not handle (3)
// from a bug to report (4). Each tool's --help prints the table from here,
// and docs/tools.md says the same.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "ir/Status.h"

namespace cocktail::tools {

enum class ExitCode : int {
  Success = 0,
  UserError = 1,    // a bad file, input spec or input; the model's own `raise`
  Usage = 2,        // the command line itself: an unknown flag, a missing argument
  Unsupported = 3,  // a construct the compiler or a backend does not handle (yet)
  Internal = 4,     // a bug in Cocktail, or a failure of the machine under it
  Mismatch = 5,     // cocktail-run --reference: the outputs differ from the reference's
};

constexpr int exitStatus(ExitCode code) { return static_cast<int>(code); }

/// The status a failure of this kind exits with.
constexpr int exitStatus(ir::ErrorKind kind) {
  switch (kind) {
    case ir::ErrorKind::User: return exitStatus(ExitCode::UserError);
    case ir::ErrorKind::Unsupported: return exitStatus(ExitCode::Unsupported);
    case ir::ErrorKind::Internal: return exitStatus(ExitCode::Internal);
  }
  return exitStatus(ExitCode::Internal);
}

/// The table for a --help footer; `withMismatch` for cocktail-run, the one tool that compares.
inline std::string exitStatusHelp(bool withMismatch = false) {
  std::string text =
      "Exit status:\n"
      "  0  success\n"
      "  1  user error: a bad file, input spec or input, or the model's own raise\n"
      "  2  a bad command line\n"
      "  3  unsupported: a construct the compiler or the backend does not handle (yet)\n"
      "  4  internal error: a bug in Cocktail (please report it) or a failure of the machine";
  if (withMismatch) text += "\n  5  the outputs differ from --reference's (beyond --rtol, or in kind or shape)";
  return text;
}

/// Parses the command line. nullopt: go on; otherwise the status to exit
/// with, after CLI11 printed what it had to say: 0 after --help or
/// --version, 2 after a bad command line.
inline std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exitStatus(ExitCode::Success) : exitStatus(ExitCode::Usage);
  }
}

}  // namespace cocktail::tools
