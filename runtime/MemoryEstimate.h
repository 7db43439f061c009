//===- runtime/MemoryEstimate.h - What a loaded program will hold in memory ----------===//
//
// Before a server builds a model's executors it asks what they will hold,
// so that a model too large for its memory limit is refused by a message
// instead of by the kernel's OOM killer taking every other model with it.
// The estimate is read off the program alone, without allocating: the
// weights (held once, shared by every instance), and per instance the
// arena of the memory plan and the packed copies of f32 matrices and
// filters (PackedWeights.h). It is an estimate: tensors outside the plan
// (-O0, islands) are not counted.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

#include "ir/Program.h"

namespace cocktail::runtime {

struct MemoryEstimate {
  int64_t weightBytes = 0;  // once per program
  int64_t arenaBytes = 0;   // per instance: one run in flight at a time
  int64_t packedBytes = 0;  // per instance: PackedWeights' copies, at most

  /// Everything `instances` executors of the program hold (saturates at INT64_MAX).
  int64_t total(int64_t instances) const;
  /// "1.5 MiB of weights + 2 instances x (64.0 KiB arena + 1.5 MiB packed weights) = 4.6 MiB"
  std::string str(int64_t instances) const;
};

/// The memory `program` holds once loaded on the CPU executor.
MemoryEstimate estimateCpuMemory(const ir::Program& program);

/// "4.6 MiB (4823449 bytes)": a byte count as people read it, with the exact count.
std::string describeBytes(int64_t bytes);

}  // namespace cocktail::runtime
