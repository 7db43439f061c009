//===- server/BackendParameters.h - Triton's PyTorch-backend parameters ---------------===//
//
// Configs written for Triton's PyTorch backend carry `parameters` such as
// INTRA_OP_THREAD_COUNT or DISABLE_OPTIMIZED_EXECUTION. They are accepted
// as Triton means them where they mean something for the model's backend
// here, and otherwise ignored with one log line each saying why; a value
// that cannot be read is ignored with a warning. None of them ever fails a
// load: a Triton repository must load unchanged.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

#include "model_config.pb.h"
#include "runtime/TorchScriptExecutor.h"
#include "server/ModelConfig.h"

namespace cocktail::server {

/// Reads the PyTorch-backend parameters of `config` for a model served by
/// `backend`, logs what each does (prefixed by `where`), applies the
/// process-wide ones (LibTorch's intra-/inter-op thread counts, for the
/// `torchscript` backend, as Triton's backend sets them process-wide) and
/// returns the interpreter's options the others set.
runtime::TorchScriptOptions applyBackendParameters(const inference::ModelConfig& config, ModelBackend backend,
                                                   const std::string& where);

}  // namespace cocktail::server
