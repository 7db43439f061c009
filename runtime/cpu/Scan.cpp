//===- runtime/cpu/Scan.cpp - Kernels that walk one dim in order: topk, cumsum ---===//
//
// Both view the input as [outer, R, inner] around their dim and walk each of
// the outer * inner lines of R elements on its own, as ATen's CPU kernels do.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime::cpu {

using namespace detail;

namespace {

struct Lines {
  int64_t outer = 1, reduced = 1, inner = 1;
};

Lines linesAlong(const Shape& shape, int64_t d) {
  Lines l;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i < d) l.outer *= shape[static_cast<size_t>(i)];
    else if (i == d) l.reduced = shape[static_cast<size_t>(i)];
    else l.inner *= shape[static_cast<size_t>(i)];
  }
  return l;
}

template <typename T>
bool isNan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

}  // namespace

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  const int64_t rank = x.dim();
  const int64_t d = rank == 0 ? 0 : normalizeDim("topk", dim, rank);
  Shape outShape = x.shape();
  const int64_t size = rank == 0 ? 1 : outShape[static_cast<size_t>(d)];
  if (k < 0 || k > size)
    throw std::out_of_range(fmt::format("topk: k ({}) is out of range for a dim of size {} (shape {})", k, size,
                                        shapeToString(x.shape())));
  if (rank > 0) outShape[static_cast<size_t>(d)] = k;
  if (x.dtype() == DType::I1) throwUnsupported("topk", x.dtype());
  Tensor values = Tensor::empty(x.dtype(), outShape);
  Tensor indices = Tensor::empty(DType::I64, outShape);
  const Lines l = rank == 0 ? Lines{} : linesAlong(x.shape(), d);
  dispatch("topk", x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    std::vector<int64_t> order(static_cast<size_t>(l.reduced));
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t i = 0; i < l.inner; ++i) {
        const T* src = in + o * l.reduced * l.inner + i;
        std::iota(order.begin(), order.end(), int64_t{0});
        // NaN is the largest value, as in ATen; equal values keep index order.
        auto before = [&](int64_t a, int64_t b) {
          const T x0 = src[a * l.inner], x1 = src[b * l.inner];
          if (largest) return (isNan(x0) && !isNan(x1)) || x0 > x1;
          return (!isNan(x0) && isNan(x1)) || x0 < x1;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int64_t a, int64_t b) { return before(a, b) || (!before(b, a) && a < b); });
        const int64_t base = o * k * l.inner + i;
        for (int64_t r = 0; r < k; ++r) {
          v[base + r * l.inner] = src[order[static_cast<size_t>(r)] * l.inner];
          ix[base + r * l.inner] = order[static_cast<size_t>(r)];
        }
      }
  });
  return {values, indices};
}

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  const DType out = dtype ? *dtype : ir::isFloating(x.dtype()) ? x.dtype() : DType::I64;
  const Tensor in = x.dtype() == out ? x : cast(x, out);
  const int64_t rank = in.dim();
  const int64_t d = rank == 0 ? 0 : normalizeDim("cumsum", dim, rank);
  const Lines l = rank == 0 ? Lines{} : linesAlong(in.shape(), d);
  Tensor y = Tensor::empty(out, in.shape());
  dispatch("cumsum", out, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // ATen's accumulator: double for floating types, int64 for integers.
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    const T* src = in.data<T>();
    T* dst = y.data<T>();
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t i = 0; i < l.inner; ++i) {
        Acc acc = 0;
        for (int64_t r = 0; r < l.reduced; ++r) {
          const int64_t at = (o * l.reduced + r) * l.inner + i;
          acc += static_cast<Acc>(src[at]);
          dst[at] = static_cast<T>(acc);
        }
      }
  });
  return y;
}

}  // namespace cocktail::runtime::cpu
