//===- runtime/cpu/KernelUtil.cpp -----------------------------------------===//
#include "runtime/cpu/KernelUtil.h"

#include <cstring>

namespace cocktail::runtime::cpu::detail {

void throwUnsupported(const char* op, DType dtype) {
  if (dtype == DType::F16 || dtype == DType::BF16)
    throw std::invalid_argument(
        fmt::format("{}: {} is not supported by the CPU kernels yet", op, ir::dtypeName(dtype)));
  throw std::invalid_argument(fmt::format("{}: not implemented for {}", op, ir::dtypeName(dtype)));
}

int64_t normalizeDim(const char* op, int64_t dim, int64_t rank) {
  const int64_t r = rank == 0 ? 1 : rank;
  if (dim < -r || dim >= r)
    throw std::out_of_range(fmt::format(
        "{}: dimension out of range (expected to be in range of [{}, {}], but got {})", op, -r,
        r - 1, dim));
  return dim < 0 ? dim + r : dim;
}

Strides contiguousStrides(const Shape& shape) {
  Strides s(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

Shape broadcastShapes(const char* op, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument(fmt::format(
          "{}: the size of tensor a ({}) must match the size of tensor b ({}) at non-singleton "
          "dimension {} (shapes {} and {})",
          op, da, db, i, str(a), str(b)));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Strides broadcastStrides(const Shape& in, const Shape& out) {
  Strides contiguous = contiguousStrides(in);
  Strides s(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[lead + i] = in[i] == 1 ? 0 : contiguous[i];
  return s;
}

Tensor broadcastTo(const char* op, const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  bool ok = x.dim() <= static_cast<int64_t>(shape.size());
  for (size_t i = 0; ok && i < x.shape().size(); ++i) {
    const int64_t d = x.shape()[i];
    ok = d == 1 || d == shape[shape.size() - x.shape().size() + i];
  }
  if (!ok)
    throw std::invalid_argument(
        fmt::format("{}: shape {} cannot be broadcast to {}", op, str(x.shape()), str(shape)));
  return stridedCopy(x, shape, broadcastStrides(x.shape(), shape), 0);
}

namespace {
template <typename T>
void copyRuns(const std::byte* src, std::byte* dst, const Shape& shape, const Strides& strides,
              int64_t offset) {
  const T* s = reinterpret_cast<const T*>(src) + offset;
  T* d = reinterpret_cast<T*>(dst);
  const Strides dstStrides = contiguousStrides(shape);
  forEachRun<2>(shape, {&strides, &dstStrides}, [&](std::array<int64_t, 2> off, int64_t n,
                                                    std::array<int64_t, 2> inner) {
    const T* sp = s + off[0];
    T* dp = d + off[1];
    const int64_t is = inner[0];
    if (is == 1) {
      std::memcpy(dp, sp, static_cast<size_t>(n) * sizeof(T));
    } else if (is == 0) {
      std::fill(dp, dp + n, *sp);
    } else {
      for (int64_t i = 0; i < n; ++i) dp[i] = sp[i * is];
    }
  });
}
}  // namespace

Tensor stridedCopy(const Tensor& src, const Shape& shape, const Strides& strides, int64_t offset) {
  Tensor out = Tensor::empty(src.dtype(), shape);
  if (out.numel() == 0) return out;
  const auto* s = static_cast<const std::byte*>(src.rawData());
  auto* d = static_cast<std::byte*>(out.rawData());
  switch (ir::dtypeSize(src.dtype())) {
    case 1: copyRuns<uint8_t>(s, d, shape, strides, offset); break;
    case 2: copyRuns<uint16_t>(s, d, shape, strides, offset); break;
    case 4: copyRuns<uint32_t>(s, d, shape, strides, offset); break;
    case 8: copyRuns<uint64_t>(s, d, shape, strides, offset); break;
    default: throw std::logic_error("stridedCopy: unexpected element size");
  }
  return out;
}

Tensor toDType(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(dtype, x.shape());
  dispatch("cast", x.dtype(), [&](auto from) {
    using From = typename decltype(from)::type;
    dispatch("cast", dtype, [&](auto to) {
      using To = typename decltype(to)::type;
      const From* s = x.data<From>();
      To* d = out.data<To>();
      const int64_t n = x.numel();
      for (int64_t i = 0; i < n; ++i) d[i] = convert<To>(s[i]);
    });
  });
  return out;
}

}  // namespace cocktail::runtime::cpu::detail
