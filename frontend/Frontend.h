//===- frontend/Frontend.h - TorchScript in, uProgram out ---------------------===//
//
// The one entry point of the frontend. Loads a TorchScript file, freezes and
// inlines it, and translates `forward` into a Program. This header includes
// no LibTorch header, so tools and tests that only drive the frontend compile
// quickly.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/InputSpec.h"
#include "ir/Program.h"
#include "ir/Status.h"

namespace cocktail::frontend {

struct FrontendOptions {
  /// Fail on an op the compiler does not lower instead of keeping it as a
  /// TorchScript island on the host.
  bool strict = false;
  /// Name of the method to translate.
  std::string method = "forward";
  /// Called with the TorchScript graph as the translator gets it: frozen,
  /// inlined, specialised on the specs (guards folded, types refined), even
  /// when translating it then fails (what `--emit torchscript` shows).
  std::function<void(const std::string&)> onSpecialized;
};

/// An op that the compiler does not lower and that runs as a TorchScript
/// island on the host.
struct Fallback {
  std::string op;         // "aten::cumsum"
  ir::Location loc;       // where it is in the model's source
  std::string reason;     // why it is not lowered
};

struct Translation {
  std::unique_ptr<ir::Program> program;
  std::vector<Fallback> fallbacks;
  /// forward's argument names, in order (without self).
  std::vector<std::string> argumentNames;
};

/// Translates `modelPath`'s method into a Program whose arguments have the
/// types of `inputs` (matched by name; every argument needs one).
ir::Expected<Translation> translateTorchScriptFile(const std::string& modelPath,
                                                   const std::vector<ir::InputSpec>& inputs,
                                                   const std::vector<ir::Symbol>& symbols,
                                                   const FrontendOptions& options = {});

/// The argument names and TorchScript types of a model's method, for error
/// messages and `--help`-style hints ("forward(xs: Tensor, steps: int)").
ir::Expected<std::string> describeSignature(const std::string& modelPath, const std::string& method = "forward");

}  // namespace cocktail::frontend
