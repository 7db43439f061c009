//===- server/ModelConfig.h - config.pbtxt ----------------------------------------===//
//
// Reading a model's config.pbtxt (Triton's ModelConfig in protobuf text
// format) and the input specs a TorchScript model is compiled with: either
// the `cocktail.inputs` parameter ("xs:f32[T<=128,4,64] steps:i64", the
// same strings as cocktail-compile's --input) or, when the config gives
// every input a dtype and fixed dims, the config's inputs themselves; and
// which executor serves the model (`cocktail.backend`).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "model_config.pb.h"
#include "server/Status.h"

namespace cocktail::server {

/// The parameter that holds the input specs.
inline constexpr char kInputsParameter[] = "cocktail.inputs";

/// The parameter that chooses the executor: "cocktail" (the default) compiles
/// the model.pt, "torchscript" runs it with the TorchScript interpreter, as
/// Triton's PyTorch backend would.
inline constexpr char kBackendParameter[] = "cocktail.backend";

enum class ModelBackend { Cocktail, TorchScript };

/// The backend the config asks for; any value but the two is an error that
/// names the parameter and the accepted values.
StatusOr<ModelBackend> backendFromConfig(const inference::ModelConfig& config);

/// "cocktail", "torchscript": the parameter's spelling.
const char* backendName(ModelBackend backend);

/// Reads `<modelDir>/config.pbtxt`; a missing file is an empty config. The
/// name, when given, must be the folder's. Triton fields cocktail-serve does
/// not act on are skipped; ensembles are refused.
StatusOr<inference::ModelConfig> readModelConfig(const std::filesystem::path& modelDir, const std::string& name);

/// The same from the file's text (empty: an empty config); `file` names it in errors.
StatusOr<inference::ModelConfig> parseModelConfig(const std::string& text, const std::string& file,
                                                  const std::string& name);

/// The bound a config's `-1` dim is compiled for when `cocktail.inputs` gives none.
inline constexpr int64_t kDefaultDimBound = 128;
/// The largest bound such a dim is recompiled for when a request is larger (--max-dim-bound).
inline constexpr int64_t kDefaultMaxDimBound = 4096;

/// How a config's `-1` dims are bounded when `cocktail.inputs` gives no bounds.
struct VariableDimBounds {
  int64_t defaultBound = kDefaultDimBound;
  /// Symbols recompiled for a larger bound after a request above the default
  /// (Repository::grow), by symbol name.
  std::map<std::string, int64_t> grown;
};

/// The input specs to compile a TorchScript model with, in forward's order:
/// `cocktail.inputs` when given, else the config's inputs, where every `-1`
/// dim becomes a symbol of its own bounded by `bounds.defaultBound` (or its
/// grown bound): `xs` dims [-1, 4] -> "xs:f32[xs_d0<=128,4]", as Triton
/// repositories write them. `variableSymbols`, when given, gets the
/// symbols made for `-1` dims (the ones that may grow).
StatusOr<std::vector<std::string>> inputSpecsFromConfig(const inference::ModelConfig& config,
                                                        const VariableDimBounds& bounds = {},
                                                        std::vector<std::string>* variableSymbols = nullptr);

/// The instances `config` asks for: instance_group counts summed (a group
/// without a count is one), at least one.
int64_t instanceCount(const inference::ModelConfig& config);

/// The index in "OUTPUT__3" / "INPUT__3" (-1 when the name has no such suffix).
int tensorIndexSuffix(const std::string& name);

}  // namespace cocktail::server
