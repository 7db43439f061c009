//===- runtime/RunArena.h - One run's memory, as the memory plan lays it out -------===//
//
// The memory plan (passes/MemoryPlanning.h) gives every tensor of a program
// an offset in one arena. A RunArena is that arena for one run: it hands
// out the buffer at an offset, tells whether a tensor lives in it, and puts
// values back where the plan wants them when a kernel left them elsewhere.
// An ArenaPool keeps arenas between runs, one per run in flight, so that a
// steady state allocates none.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "runtime/RuntimeValue.h"

namespace cocktail::runtime {

class RunArena {
 public:
  /// No arena: the program has no memory plan (e.g. at -O0).
  RunArena() = default;
  RunArena(std::shared_ptr<std::byte[]> memory, int64_t bytes) : memory_(std::move(memory)), bytes_(bytes) {}

  explicit operator bool() const { return memory_ != nullptr; }

  bool contains(const Tensor& t) const {
    const auto* p = static_cast<const std::byte*>(t.rawData());
    return memory_ && p >= memory_.get() && p < memory_.get() + bytes_;
  }
  bool isAt(const Tensor& t, int64_t offset) const { return offset >= 0 && t.rawData() == memory_.get() + offset; }

  /// The `bytes` at `offset`, with an owner count of their own (so that
  /// Tensor::uniquelyOwned() means for them what it means on the heap),
  /// which keeps the arena alive. The verifier (ir/ScheduleVerifier.h) has
  /// checked every planned slot against the arena; the assert is the second
  /// line of defence.
  std::shared_ptr<std::byte[]> slot(int64_t offset, int64_t bytes) const {
    assert(offset >= 0 && bytes >= 0 && offset <= bytes_ && bytes <= bytes_ - offset && "a slot outside the arena");
    return std::shared_ptr<std::byte[]>(memory_.get() + offset, [keep = memory_](std::byte*) {});
  }

  /// Puts values where the plan wants them: a tensor in the arena but not at
  /// its slot (offsets[k], bytes[k]; -1: none) moves there, or without a
  /// slot to the heap; heap tensors stay. The moves form a parallel move
  /// (`a, b = b, a + b` reads b's slot to fill a's): a copy runs once no
  /// pending one still reads its destination; only a cycle sends a value to
  /// the heap.
  void settle(std::span<RuntimeValue* const> values, std::span<const int64_t> offsets,
              std::span<const int64_t> bytes) const;

  /// The arena, for the pool to keep.
  std::shared_ptr<std::byte[]> release() { return std::move(memory_); }

 private:
  void moveToSlot(RuntimeValue& v, int64_t offset, int64_t bytes) const;

  std::shared_ptr<std::byte[]> memory_;
  int64_t bytes_ = 0;
};

/// Arenas of one size, one per run in flight: a run takes one (the first
/// runs allocate them) and gives it back when it ends.
class ArenaPool {
 public:
  ArenaPool(int64_t bytes, int64_t align) : bytes_(bytes), align_(align < 64 ? 64 : align) {}

  RunArena acquire();
  /// Back to the pool, unless a tensor still points into it.
  void release(RunArena arena);

 private:
  int64_t bytes_, align_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<std::byte[]>> free_;
};

}  // namespace cocktail::runtime
