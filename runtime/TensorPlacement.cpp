//===- runtime/TensorPlacement.cpp ----------------------------------------------------===//
#include "runtime/TensorPlacement.h"

namespace cocktail::runtime {

namespace {
thread_local TensorPlacement* active = nullptr;
}  // namespace

TensorPlacement::TensorPlacement(std::span<const Slot> slots) : slots_(slots), outer_(active) { active = this; }

TensorPlacement::~TensorPlacement() { active = outer_; }

std::shared_ptr<std::byte[]> TensorPlacement::take(ir::DType dtype, size_t rank, size_t bytes) {
  TensorPlacement* p = active;
  if (!p || p->next_ >= p->slots_.size()) return nullptr;
  const Slot& s = p->slots_[p->next_];
  if (s.bytes < bytes || s.dtype != dtype || (s.rank >= 0 && static_cast<size_t>(s.rank) != rank)) return nullptr;
  ++p->next_;
  return s.buffer;
}

}  // namespace cocktail::runtime
