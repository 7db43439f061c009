//===- runtime/TensorPlacement.h - Kernels' results into planned memory ------------===//
//
// The memory plan (passes/MemoryPlanning.h) gives every result a place in
// one arena, but the CPU kernels are written to return a fresh tensor. A
// TensorPlacement bridges the two without a second set of kernel
// signatures: while one is alive, Tensor::empty on this thread hands out its
// slots, in order, each to the first request of the result's dtype and
// rank that fits, instead of allocating. A kernel's first such allocation
// is normally its result (a 0-d temporary for a scalar operand does not
// match); where it is a temporary instead, the result comes from the heap. Either is correct,
// since the plan keeps a result's slot free of every value live at the op,
// and the executor checks where each result landed (and moves one that
// landed elsewhere in the arena into its slot).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "ir/DType.h"

namespace cocktail::runtime {

class TensorPlacement {
 public:
  struct Slot {
    std::shared_ptr<std::byte[]> buffer;  // a place in the arena
    size_t bytes = 0;                     // its size, at the result's bounds
    ir::DType dtype = ir::DType::F32;     // the result's
    int rank = -1;                        // the result's; -1: any
  };

  /// Slots for the tensors created on this thread until destruction; nests.
  explicit TensorPlacement(std::span<const Slot> slots);
  ~TensorPlacement();
  TensorPlacement(const TensorPlacement&) = delete;
  TensorPlacement& operator=(const TensorPlacement&) = delete;

  /// The next unused slot if it is for a tensor like this one and holds
  /// `bytes`; null otherwise (the request goes to the heap, the slot stays).
  static std::shared_ptr<std::byte[]> take(ir::DType dtype, size_t rank, size_t bytes);

 private:
  std::span<const Slot> slots_;
  size_t next_ = 0;
  TensorPlacement* outer_;
};

}  // namespace cocktail::runtime
