//===- runtime/cuda/BufferLayout.h - Where each tensor lives in device memory -------===//
//
// The CUDA program addresses one device allocation, the arena. Every tensor
// that owns storage (an input, a weight, an op's result, a loop-carried
// value) gets a region of it sized for its upper bounds, so that one
// allocation serves every request the signature admits; scalars that cross
// kernel boundaries get 8-byte slots; grid barriers get their counters.
//
// This is the one place that decides offsets. The first layout gives every
// buffer its own region (simple, and safe with views that outlive their
// base's last use); a memory plan that reuses regions between values whose
// lifetimes do not overlap replaces `place` without touching the generator.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cocktail::runtime::cuda {

struct BufferRegion {
  std::string name;   // "%h_new.1", "@w_ih", "slots": for the layout table in --emit cuda
  int64_t offset = 0; // bytes from the start of the arena
  int64_t bytes = 0;
};

class BufferLayout {
 public:
  /// Alignment of every region: enough for 128-bit vector loads and a
  /// whole DRAM sector.
  static constexpr int64_t kAlignment = 256;

  /// Places a region of `bytes` (at least one alignment unit) and returns its index.
  int place(std::string name, int64_t bytes);

  const BufferRegion& region(int index) const { return regions_.at(static_cast<size_t>(index)); }
  const std::vector<BufferRegion>& regions() const { return regions_; }
  /// Bytes the arena needs.
  int64_t size() const { return end_; }

 private:
  std::vector<BufferRegion> regions_;
  int64_t end_ = 0;
};

}  // namespace cocktail::runtime::cuda
