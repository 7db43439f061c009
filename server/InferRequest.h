//===- server/InferRequest.h - From a ModelInferRequest to a job and back -----------===//
//
// Every request is validated here before anything reaches the runtime: each
// input present once and known by name, its datatype the model's, its shape
// within the compiled bounds (symbols consistent across inputs), its bytes
// exactly shape x element size, raw and typed contents never mixed, the
// requested outputs known. A failure is INVALID_ARGUMENT with a message that
// names the field ("inputs[1] ('steps'): ...").
//
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <string>

#include "grpc_service.pb.h"
#include "server/Model.h"
#include "server/Status.h"

namespace cocktail::server {

/// Validates `request` against `model` and fills `job`'s inputs, outputs,
/// batch size and deadline (from the "timeout" parameter, in microseconds,
/// or the model's default). `job` must have been reset. With `grow`, a dim
/// above the bound of a symbol the model may grow (Model::growable), up to
/// its maxDimBound, is not an error: `grow` gets symbol -> the dim, and the
/// caller recompiles before the job can run.
Status prepareJob(const inference::ModelInferRequest& request, const Model& model, InferJob& job,
                  std::map<std::string, int64_t>* grow = nullptr);

/// Writes a finished job's results into `response`, outputs as raw contents.
void writeResponse(const inference::ModelInferRequest& request, const Model& model, const InferJob& job,
                   inference::ModelInferResponse& response);

}  // namespace cocktail::server
