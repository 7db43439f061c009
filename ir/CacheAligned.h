//===- ir/CacheAligned.h - Buffers that start on a cache line ----------------------===//
//
// Weights, packed panels and heap tensors are streamed with 64-byte vector
// loads. malloc gives 16-byte alignment, and a large block that glibc maps
// (past its dynamic mmap threshold) starts 16 bytes into a page, so every
// AVX-512 load of such a buffer straddles two cache lines; which buffers get
// mapped depends on the allocation history, so a model's time swung by 16%
// from one process to the next. Every buffer a kernel streams starts on a
// cache line instead.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace cocktail::ir {

/// A cache line, and the widest vector load (AVX-512).
inline constexpr size_t kCacheLineBytes = 64;

/// std::allocator, but every block starts on a cache line.
template <typename T>
struct CacheAlignedAllocator {
  using value_type = T;

  CacheAlignedAllocator() = default;
  template <typename U>
  CacheAlignedAllocator(const CacheAlignedAllocator<U>& /*other*/) {}  // NOLINT(google-explicit-constructor)

  T* allocate(size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kCacheLineBytes}));
  }
  void deallocate(T* p, size_t /*n*/) { ::operator delete(p, std::align_val_t{kCacheLineBytes}); }

  template <typename U>
  bool operator==(const CacheAlignedAllocator<U>& /*other*/) const {
    return true;
  }
};

/// A growable array whose data() starts on a cache line.
template <typename T>
using CacheAlignedVector = std::vector<T, CacheAlignedAllocator<T>>;

/// Bytes of a weight or tensor, starting on a cache line.
using CacheAlignedBytes = CacheAlignedVector<std::byte>;

/// `bytes` uninitialised bytes starting on a cache line, shared like
/// `new std::byte[bytes]` but released with the matching aligned delete.
inline std::shared_ptr<std::byte[]> allocateCacheAligned(size_t bytes) {
  auto* p = static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{kCacheLineBytes}));
  return {p, [](std::byte* q) { ::operator delete[](q, std::align_val_t{kCacheLineBytes}); }};
}

}  // namespace cocktail::ir
