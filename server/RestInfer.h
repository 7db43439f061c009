//===- server/RestInfer.h - The KServe v2 REST inference body <-> protocol messages ----===//
//
// POST /v2/models/{m}/infer carries a JSON body, optionally followed by
// Triton's binary tensor data: `Inference-Header-Content-Length: N` says the
// first N bytes are JSON, and each input with parameters.binary_data_size
// takes its bytes, in input order, from what follows. This file only
// translates that wire format into an inference::ModelInferRequest (every
// input as raw contents) and a finished ModelInferResponse back into JSON
// and binary outputs; what the request means for the model is checked in
// one place for both front ends (InferRequest.h), so HTTP and gRPC clients
// get the same checks and messages. Malformed JSON, a binary_data_size past
// the body, data of the wrong kind or count are INVALID_ARGUMENT here.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grpc_service.pb.h"
#include "server/Status.h"

namespace cocktail::server {

/// What the client asked of the response's encoding.
struct RestOutputChoice {
  bool binaryByDefault = false;              // parameters.binary_data_output
  std::vector<std::pair<std::string, bool>> binary;  // outputs[i].parameters.binary_data, when given
};

/// Decodes an infer body for model `model` (version `version`, may be
/// empty). `headerLength` is Inference-Header-Content-Length's value
/// (nullopt: the whole body is JSON).
Status decodeRestInfer(std::string_view body, std::optional<std::string_view> headerLength, const std::string& model,
                       const std::string& version, inference::ModelInferRequest& request, RestOutputChoice& choice);

/// A REST response: the body and, when some output is binary, the length of its JSON part.
struct RestBody {
  std::string body;
  std::optional<size_t> jsonLength;
};

/// Encodes a finished response; outputs are JSON arrays unless `choice` asks for binary.
RestBody encodeRestInfer(const inference::ModelInferResponse& response, const RestOutputChoice& choice);

}  // namespace cocktail::server
