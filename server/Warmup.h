//===- server/Warmup.h - config.pbtxt's model_warmup ---------------------------------===//
//
// Triton's `model_warmup`: samples a model runs at load, on every instance,
// before it is READY, so that no request pays for a first run. Each sample
// becomes an ordinary ModelInferRequest (zeros, random values or the raw
// bytes of a file in <model>/warmup/) and goes through the same validation
// as a client's request; a sample that does not fit the model, or a run that
// fails, fails the load with the reason (the model is UNAVAILABLE).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <filesystem>
#include <vector>

#include "grpc_service.pb.h"
#include "model_config.pb.h"
#include "server/Model.h"
#include "server/Status.h"

namespace cocktail::server {

/// The request of each sample in `config.model_warmup()`, in order, for a
/// model taking `inputs` (batched when `maxBatchSize` > 0); input_data_file
/// names a file in `warmupDir`.
StatusOr<std::vector<inference::ModelInferRequest>> warmupRequests(const inference::ModelConfig& config,
                                                                   const std::vector<TensorInfo>& inputs,
                                                                   int64_t maxBatchSize,
                                                                   const std::filesystem::path& warmupDir);

}  // namespace cocktail::server
