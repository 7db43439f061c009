//===- runtime/cpu/KernelUtil.h - Shared helpers of the CPU kernels ----===//
//
// Internal to runtime/cpu: dtype dispatch, dim normalisation, broadcasting,
// and the strided loop that every copy-like kernel is built on. A "strided
// view" here is (shape, element strides, element offset) over a contiguous
// buffer; strides may be 0 (broadcast) or negative (flip).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/Tensor.h"

namespace cocktail::runtime::cpu::detail {

using Strides = std::vector<int64_t>;

template <typename T>
struct TypeTag {
  using type = T;
};

/// Throws the "not supported yet" error for half types.
[[noreturn]] void throwUnsupported(const char* op, DType dtype);

/// Calls f(TypeTag<T>{}) with the C++ element type of `dtype`.
template <typename F>
decltype(auto) dispatch(const char* op, DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: return f(TypeTag<float>{});
    case DType::F64: return f(TypeTag<double>{});
    case DType::I64: return f(TypeTag<int64_t>{});
    case DType::I32: return f(TypeTag<int32_t>{});
    case DType::I1: return f(TypeTag<bool>{});
    case DType::U8: return f(TypeTag<uint8_t>{});
    case DType::F16:
    case DType::BF16: break;
  }
  throwUnsupported(op, dtype);
}

/// Like dispatch, but only for F32 and F64; other types throw naming `op`.
template <typename F>
decltype(auto) dispatchFloat(const char* op, DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: return f(TypeTag<float>{});
    case DType::F64: return f(TypeTag<double>{});
    default: break;
  }
  throwUnsupported(op, dtype);
}

/// Calls f(TypeTag<U>{}) with an unsigned integer type of `bytes` bytes:
/// copy-like kernels move elements without caring what they are.
template <typename F>
decltype(auto) dispatchBySize(int64_t bytes, F&& f) {
  switch (bytes) {
    case 1: return f(TypeTag<uint8_t>{});
    case 2: return f(TypeTag<uint16_t>{});
    case 4: return f(TypeTag<uint32_t>{});
    default: return f(TypeTag<uint64_t>{});
  }
}

template <typename T>
constexpr DType dtypeOf() {
  if constexpr (std::is_same_v<T, float>) return DType::F32;
  else if constexpr (std::is_same_v<T, double>) return DType::F64;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::I64;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::I32;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::U8;
  else return DType::I1;
}

inline bool isIntegral(DType t) { return ir::isInteger(t); }

/// Wraps a possibly negative dim into [0, rank); a 0-d tensor accepts -1 and 0
/// as PyTorch does. Throws std::out_of_range naming `op`.
int64_t normalizeDim(const char* op, int64_t dim, int64_t rank);

/// Row-major strides of a contiguous tensor of `shape`.
Strides contiguousStrides(const Shape& shape);

/// The broadcast of two shapes; throws std::invalid_argument naming `op`.
Shape broadcastShapes(const char* op, const Shape& a, const Shape& b);

/// Strides that read a contiguous tensor of shape `in` as if expanded to
/// `out` (right-aligned, 0 where broadcast). `in` must broadcast to `out`.
Strides broadcastStrides(const Shape& in, const Shape& out);

/// `x` broadcast to `shape` and materialised (a cheap copy if already equal).
Tensor broadcastTo(const char* op, const Tensor& x, const Shape& shape);

/// Materialises the strided view (shape, strides, offset) of `src`.
Tensor stridedCopy(const Tensor& src, const Shape& shape, const Strides& strides, int64_t offset);

/// x if it already has `dtype`, else a converted copy.
Tensor toDType(const Tensor& x, DType dtype);

/// Calls `inner(offsets, n, innerStrides)` for every innermost run of the
/// N strided operands over `shape`, after merging dims that are contiguous
/// for all operands (so a broadcast over [N, C, H, W] runs H*W at a time).
/// `shape` and the N operands' strides with size-1 dims dropped and dims
/// that are contiguous for every operand merged; false if shape has a 0.
template <size_t N>
bool collapseDims(const Shape& shape, const std::array<const Strides*, N>& strides, Shape& sz,
                  std::array<Strides, N>& st) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return false;
    if (shape[d] == 1) continue;
    bool merge = !sz.empty();
    for (size_t k = 0; k < N && merge; ++k) merge = st[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      sz.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) st[k].back() = (*strides[k])[d];
    } else {
      sz.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) st[k].push_back((*strides[k])[d]);
    }
  }
  return true;
}

template <size_t N, typename F>
void forEachRun(const Shape& shape, const std::array<const Strides*, N>& strides, F&& inner) {
  Shape sz;
  std::array<Strides, N> st;
  if (!collapseDims(shape, strides, sz, st)) return;
  std::array<int64_t, N> off{};
  if (sz.empty()) {
    std::array<int64_t, N> one{};
    inner(off, int64_t{1}, one);
    return;
  }
  const size_t rank = sz.size();
  std::array<int64_t, N> innerStride;
  for (size_t k = 0; k < N; ++k) innerStride[k] = st[k][rank - 1];
  const int64_t n = sz[rank - 1];
  std::vector<int64_t> counter(rank, 0);
  while (true) {
    inner(off, n, innerStride);
    // Advance the outer counter (dims rank-2 .. 0).
    size_t d = rank - 1;
    while (true) {
      if (d == 0) return;
      --d;
      if (++counter[d] < sz[d]) {
        for (size_t k = 0; k < N; ++k) off[k] += st[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) off[k] -= st[k][d] * (sz[d] - 1);
      counter[d] = 0;
    }
  }
}

/// Element conversion with PyTorch's rules (bool is "nonzero").
template <typename To, typename From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

/// "[2, 3] and [4]" style joining for error messages.
inline std::string str(const Shape& s) { return shapeToString(s); }

}  // namespace cocktail::runtime::cpu::detail
