//===- server/ModelMemory.h - A model's memory limit, checked before it loads --------===//
//
// A model whose executors would not fit in memory must not take the server
// down with it: before a load builds its instances, what they will hold is
// estimated (runtime/MemoryEstimate.h; for the TorchScript interpreter, the
// model file once per instance) and compared with the model's limit:
// --model-memory-limit (by default half the machine's physical memory), or
// the config.pbtxt parameter `cocktail.memory_limit` when it is lower. A
// model over its limit is UNAVAILABLE with the estimate and the limit.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

#include "model_config.pb.h"
#include "server/Status.h"

namespace cocktail::server {

/// The parameter that lowers one model's memory limit, in bytes or with a
/// binary suffix: "512MiB", "2GiB".
inline constexpr char kMemoryLimitParameter[] = "cocktail.memory_limit";

/// "1073741824", "512MiB", "512M", "2GiB", "1.5GiB": bytes, with an optional
/// binary suffix (K, M, G, T, with or without "iB"); an error names `what`.
StatusOr<int64_t> parseByteSize(const std::string& text, const std::string& what);

/// Half the machine's physical memory (0, no limit, when it cannot be read).
int64_t defaultModelMemoryLimit();

/// A model's limit and where it comes from.
struct MemoryLimit {
  int64_t bytes = 0;  // 0: none
  std::string source;
};

/// The limit for the model of `config`: the server's (`serverLimit`, from
/// --model-memory-limit), or its config's `cocktail.memory_limit` when that is
/// lower; a value that cannot be read is an error naming the parameter.
StatusOr<MemoryLimit> modelMemoryLimit(const inference::ModelConfig& config, int64_t serverLimit,
                                       const std::string& where);

/// RESOURCE_EXHAUSTED naming `where`, the estimate (`bytes`, and what it is
/// made of) and the limit, when the estimate is above it.
Status checkModelMemory(const std::string& where, int64_t bytes, const std::string& breakdown,
                        const MemoryLimit& limit);

}  // namespace cocktail::server
