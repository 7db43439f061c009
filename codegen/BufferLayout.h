//===- codegen/BufferLayout.h - Where each tensor lives in device memory -------===//
//
// The CUDA program addresses one device allocation, the arena. Every tensor
// that owns storage (an input, a weight, an op's result, a loop-carried
// value) gets a region of it sized for its upper bounds, so that one
// allocation serves every request the signature admits; scalars that cross
// kernel boundaries get 8-byte slots; grid barriers get their counters.
//
// This is the one place that decides offsets. Values the `plan-memory` pass
// placed keep its offsets inside one planned block (`placeAt`), where values
// whose lifetimes do not overlap share bytes; everything else (weights,
// inputs, outputs, values the plan left unplaced, staging copies, the slots
// and the barrier) gets a region of its own (`place`). The result is the
// plan's `regions` and `arenaBytes`. Regions may overlap
// inside the planned block: the generator orders accesses by byte range.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/cuda/CudaPlan.h"

namespace cocktail::codegen {

using runtime::cuda::BufferRegion;

class BufferLayout {
 public:
  /// Alignment of every region: enough for 128-bit vector loads and a
  /// whole DRAM sector.
  static constexpr int64_t kAlignment = 256;

  /// Places a region of `bytes` (at least one alignment unit) and returns its index.
  int place(std::string name, int64_t bytes);

  /// A region at a fixed offset inside bytes already placed (a planned value).
  int placeAt(std::string name, int64_t offset, int64_t bytes);

  const BufferRegion& region(int index) const { return regions_.at(static_cast<size_t>(index)); }
  const std::vector<BufferRegion>& regions() const { return regions_; }
  /// Bytes the arena needs.
  int64_t size() const { return end_; }

 private:
  std::vector<BufferRegion> regions_;
  int64_t end_ = 0;
};

}  // namespace cocktail::codegen
