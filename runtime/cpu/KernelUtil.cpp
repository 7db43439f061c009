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

/// Rows and columns of the result per tile of a transposing copy: a tile
/// reads each of its source cache lines (16 floats) whole, where a plain run
/// would read a line for every element it takes.
constexpr int64_t kTile = 16;

using U32x4 = uint32_t __attribute__((vector_size(16)));

/// The 4 x 4 block at src (row stride ld) transposed into dst (row stride
/// ldd): four loads, eight shuffles, four stores (SSE2, so every x86-64).
inline void transpose4x4(const uint32_t* src, int64_t ld, uint32_t* dst, int64_t ldd) {
  U32x4 v[4], t[4];
  for (int r = 0; r < 4; ++r) std::memcpy(&v[r], src + r * ld, sizeof(U32x4));
  t[0] = __builtin_shufflevector(v[0], v[1], 0, 4, 1, 5);
  t[1] = __builtin_shufflevector(v[0], v[1], 2, 6, 3, 7);
  t[2] = __builtin_shufflevector(v[2], v[3], 0, 4, 1, 5);
  t[3] = __builtin_shufflevector(v[2], v[3], 2, 6, 3, 7);
  const U32x4 out[4] = {__builtin_shufflevector(t[0], t[2], 0, 1, 4, 5),
                        __builtin_shufflevector(t[0], t[2], 2, 3, 6, 7),
                        __builtin_shufflevector(t[1], t[3], 0, 1, 4, 5),
                        __builtin_shufflevector(t[1], t[3], 2, 3, 6, 7)};
  for (int r = 0; r < 4; ++r) std::memcpy(dst + r * ldd, &out[r], sizeof(U32x4));
}

/// dst[i, j] = src[i + j * ld] for a [rows, cols] dst of row stride `cols`.
template <typename T>
void transposePlane(const T* src, int64_t ld, T* dst, int64_t rows, int64_t cols) {
  for (int64_t i0 = 0; i0 < rows; i0 += kTile)
    for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
      const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
      int64_t iEnd = i0, jEnd = j0;  // the part done in 4 x 4 blocks
      if constexpr (sizeof(T) == 4) {
        iEnd = i0 + (i1 - i0) / 4 * 4, jEnd = j0 + (j1 - j0) / 4 * 4;
        for (int64_t i = i0; i < iEnd; i += 4)
          for (int64_t j = j0; j < jEnd; j += 4)
            transpose4x4(reinterpret_cast<const uint32_t*>(src + i + j * ld), ld,
                         reinterpret_cast<uint32_t*>(dst + i * cols + j), cols);
      }
      // The ragged edges, element by element.
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = (i < iEnd ? jEnd : j0); j < j1; ++j) dst[i * cols + j] = src[i + j * ld];
    }
}

/// A copy whose innermost run reads across the source's rows while the dim
/// outside it reads along them (x.transpose(-2, -1), K^T in attention): done
/// plane by plane in tiles. False if the view is not of that form.
template <typename T>
bool copyTransposed(const T* s, T* d, const Shape& shape, const Strides& strides) {
  const Strides dstStrides = contiguousStrides(shape);
  Shape sz;
  std::array<Strides, 2> st;
  if (!collapseDims<2>(shape, {&strides, &dstStrides}, sz, st)) return true;  // empty: nothing to copy
  const size_t rank = sz.size();
  if (rank < 2 || st[0][rank - 2] != 1 || st[0][rank - 1] == 1 || sz[rank - 1] < kTile ||
      sz[rank - 2] < kTile)
    return false;
  // The result is dense, so each of its planes is [rows, cols] with row stride cols.
  const int64_t rows = sz[rank - 2], cols = sz[rank - 1], ld = st[0][rank - 1];
  // The planes: every index of the dims outside the last two, plus a dim of
  // one for forEachRun to run over.
  Shape loop(sz.begin(), sz.end() - 2);
  Strides loopSrc(st[0].begin(), st[0].end() - 2), loopDst(st[1].begin(), st[1].end() - 2);
  loop.push_back(1);
  loopSrc.push_back(0), loopDst.push_back(0);
  forEachRun<2>(loop, {&loopSrc, &loopDst}, [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> step) {
    for (int64_t p = 0; p < n; ++p)
      transposePlane(s + off[0] + p * step[0], ld, d + off[1] + p * step[1], rows, cols);
  });
  return true;
}

template <typename T>
void copyRuns(const std::byte* src, std::byte* dst, const Shape& shape, const Strides& strides,
              int64_t offset) {
  const T* s = reinterpret_cast<const T*>(src) + offset;
  T* d = reinterpret_cast<T*>(dst);
  if (copyTransposed(s, d, shape, strides)) return;
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
