//===- runtime/RunArena.cpp -----------------------------------------------------------===//
#include "runtime/RunArena.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>

#include "runtime/TensorPlacement.h"

namespace cocktail::runtime {

void RunArena::settle(std::span<RuntimeValue* const> values, std::span<const int64_t> offsets,
                      std::span<const int64_t> bytes) const {
  if (!memory_) return;
  constexpr size_t kMax = 64;
  const size_t n = std::min(values.size(), kMax);
  std::array<bool, kMax> pending{};
  size_t left = 0;
  auto offsetOf = [&](size_t k) { return k < offsets.size() ? offsets[k] : int64_t{-1}; };
  auto fits = [&](size_t k, const Tensor& t) { return offsetOf(k) >= 0 && bytes[k] >= 0 && t.nbytes() <= bytes[k]; };
  // Clones first: they read values that the copies below may overwrite.
  for (size_t k = 0; k < values.size(); ++k) {
    Tensor* t = std::get_if<Tensor>(values[k]);
    if (!t || !contains(*t) || isAt(*t, offsetOf(k))) continue;
    if (k >= n || !fits(k, *t)) {
      *values[k] = t->clone();
    } else {
      pending[k] = true;
      ++left;
    }
  }
  auto overlapsSlot = [&](size_t k, size_t j) {  // does pending value k lie in slot j?
    const Tensor& t = std::get<Tensor>(*values[k]);
    const auto* p = static_cast<const std::byte*>(t.rawData());
    const std::byte* lo = memory_.get() + offsets[j];
    return p < lo + bytes[j] && lo < p + t.nbytes();
  };
  while (left > 0) {
    bool progressed = false;
    for (size_t j = 0; j < n; ++j) {
      if (!pending[j]) continue;
      bool blocked = false;
      for (size_t k = 0; k < n && !blocked; ++k) blocked = k != j && pending[k] && overlapsSlot(k, j);
      if (blocked) continue;
      moveToSlot(*values[j], offsets[j], bytes[j]);
      pending[j] = false;
      --left;
      progressed = true;
    }
    if (progressed) continue;
    for (size_t j = 0; j < n; ++j)  // a cycle: one value waits on the heap
      if (pending[j]) {
        *values[j] = std::get<Tensor>(*values[j]).clone();
        pending[j] = false;
        --left;
        break;
      }
  }
}

void RunArena::moveToSlot(RuntimeValue& v, int64_t offset, int64_t bytes) const {
  const Tensor& t = std::get<Tensor>(v);
  TensorPlacement::Slot slot{this->slot(offset, bytes), static_cast<size_t>(bytes), t.dtype(), static_cast<int>(t.dim())};
  TensorPlacement placement(std::span<const TensorPlacement::Slot>(&slot, 1));
  Tensor moved = Tensor::empty(t.dtype(), t.shape());
  std::memmove(moved.rawData(), t.rawData(), static_cast<size_t>(t.nbytes()));
  v = std::move(moved);
}

RunArena ArenaPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      auto memory = std::move(free_.back());
      free_.pop_back();
      return RunArena(std::move(memory), bytes_);
    }
  }
  const std::align_val_t al{static_cast<size_t>(align_)};
  auto* p = static_cast<std::byte*>(::operator new[](static_cast<size_t>(bytes_), al));
  return RunArena(std::shared_ptr<std::byte[]>(p, [al](std::byte* q) { ::operator delete[](q, al); }), bytes_);
}

void ArenaPool::release(RunArena arena) {
  std::shared_ptr<std::byte[]> memory = arena.release();
  if (!memory || memory.use_count() != 1) return;
  std::lock_guard lock(mutex_);
  free_.push_back(std::move(memory));
}

}  // namespace cocktail::runtime
