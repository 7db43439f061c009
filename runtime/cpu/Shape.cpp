//===- runtime/cpu/Shape.cpp - Views, slicing, indexing, cat and scatters -===//
//
// Every view op (permute, expand, slice, select, flip, ...) is described as
// a strided view of its input and then materialised by stridedCopy; the
// functional writes (slice_scatter, select_scatter, copy_) describe the same
// view of a cloned base and write through it. Advanced indexing computes the
// element offset of every result element once, which serves both index()
// and index_put(); every index is bounds-checked while doing so.
//
//===----------------------------------------------------------------------===//
#include <cstring>
#include <numeric>

#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime::cpu {

using namespace detail;

namespace {

/// A strided view of a contiguous tensor, in elements.
struct View {
  Shape shape;
  Strides strides;
  int64_t offset = 0;
};

View identityView(const Tensor& x) { return {x.shape(), contiguousStrides(x.shape()), 0}; }

/// True when the view walks its elements in buffer order with no gaps.
bool isContiguous(const View& v) {
  int64_t expected = 1;
  for (size_t d = v.shape.size(); d-- > 0;) {
    if (v.shape[d] == 1) continue;  // a size-1 dim's stride is never used
    if (v.strides[d] != expected) return false;
    expected *= v.shape[d];
  }
  return true;
}

/// The view as a tensor: an alias of x's buffer when it is a contiguous
/// range (select of a leading dim, a chunk of a row), else a copy.
Tensor materialize(const Tensor& x, const View& v) {
  if (numElements(v.shape) > 0 && isContiguous(v)) return x.aliasRange(v.shape, v.offset);
  return stridedCopy(x, v.shape, v.strides, v.offset);
}

/// The buffer a functional write may write into: base itself when nothing
/// else can see it, else a copy.
Tensor writable(Tensor base) { return base.uniquelyOwned() ? std::move(base) : base.clone(); }

/// Writes contiguous `src` (of v.shape, same dtype) through view v of `dst`.
void writeView(Tensor& dst, const View& v, const Tensor& src) {
  if (numElements(v.shape) == 0) return;
  const Strides srcStrides = contiguousStrides(v.shape);
  dispatchBySize(ir::dtypeSize(dst.dtype()), [&](auto tag) {
    using U = typename decltype(tag)::type;
    U* d = static_cast<U*>(dst.rawData()) + v.offset;
    const U* s = static_cast<const U*>(src.rawData());
    forEachRun<2>(v.shape, {&v.strides, &srcStrides},
                  [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                    for (int64_t i = 0; i < n; ++i) d[off[0] + i * st[0]] = s[off[1] + i];
                  });
  });
}

std::vector<int64_t> readIndices(const char* op, const Tensor& index) {
  std::vector<int64_t> out(static_cast<size_t>(index.numel()));
  if (index.dtype() == DType::I64) {
    std::copy_n(index.data<int64_t>(), index.numel(), out.begin());
  } else if (index.dtype() == DType::I32) {
    std::copy_n(index.data<int32_t>(), index.numel(), out.begin());
  } else {
    throw std::invalid_argument(fmt::format(
        "{}: tensors used as indices must be i64 or i32 (or i1 masks), got {}", op,
        index.typeString()));
  }
  return out;
}

/// Checks an index against `size`; a negative one counts from the end where
/// `wrap` (as ATen's index does; index_select, gather and scatter refuse it).
int64_t checkIndex(const char* op, int64_t idx, int64_t size, int64_t dim, bool wrap) {
  if (idx < (wrap ? -size : 0) || idx >= size)
    throw IndexOutOfRange(
        fmt::format("{}: index {} is out of bounds for dimension {} with size {}", op, idx, dim, size));
  return idx < 0 ? idx + size : idx;
}

View sliceView(const char* op, const Tensor& x, int64_t dim, std::optional<int64_t> start,
               std::optional<int64_t> end, int64_t step) {
  if (x.dim() == 0) throw std::invalid_argument(fmt::format("{}: cannot slice a 0-d tensor", op));
  if (step <= 0) throw std::invalid_argument(fmt::format("{}: slice step must be positive, got {}", op, step));
  const int64_t d = normalizeDim(op, dim, x.dim());
  const int64_t size = x.shape()[d];
  int64_t s = start.value_or(0), e = end.value_or(size);
  if (s < 0) s += size;
  if (e < 0) e += size;
  s = std::clamp<int64_t>(s, 0, size);
  e = std::clamp<int64_t>(e, s, size);
  View v = identityView(x);
  v.offset = s * v.strides[d];
  // ceil((e - s) / step) without forming e - s + step - 1, which wraps for a
  // step near INT64_MAX; a dim of at most one element keeps its stride (it is
  // never used), so stride * step is formed only when it stays inside the buffer.
  const int64_t span = e - s;
  v.shape[d] = span == 0 ? 0 : (span - 1) / step + 1;
  if (v.shape[d] > 1) v.strides[d] *= step;
  return v;
}

View selectView(const char* op, const Tensor& x, int64_t dim, int64_t index) {
  if (x.dim() == 0) throw std::invalid_argument(fmt::format("{}: cannot select from a 0-d tensor", op));
  const int64_t d = normalizeDim(op, dim, x.dim());
  const int64_t size = x.shape()[d];
  if (index < -size || index >= size)
    throw IndexOutOfRange(
        fmt::format("{}: index {} out of range for tensor of size {} at dimension {}", op, index, str(x.shape()), d));
  if (index < 0) index += size;
  View v = identityView(x);
  v.offset = index * v.strides[d];
  v.shape.erase(v.shape.begin() + d);
  v.strides.erase(v.strides.begin() + d);
  return v;
}

}  // namespace

// ---- pure views ------------------------------------------------------------------
// reshape, flatten, (un)squeeze regroup a dense tensor: the result shares its
// buffer, as the memory plan's `mem_alias` says (a copy would be a heap
// allocation every step). Sharing is safe: a write checks uniquelyOwned().

Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape) {
  Shape out = shape;
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0) throw std::invalid_argument("reshape: only one dimension can be inferred");
      inferred = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      throw std::invalid_argument(fmt::format("reshape: invalid shape dimension {} in {}", out[i], str(shape)));
    } else if (__builtin_mul_overflow(known, out[i], &known)) {
      throw std::invalid_argument(
          fmt::format("reshape: shape {} has more elements than an int64 can count", str(shape)));
    }
  }
  if (inferred >= 0) {
    if (known == 0)
      throw std::invalid_argument(fmt::format(
          "reshape: cannot reshape tensor of {} elements into shape {} because the unspecified "
          "dimension size -1 can be any value",
          x.numel(), str(shape)));
    if (x.numel() % known == 0) out[inferred] = x.numel() / known;
  }
  if (numElements(out) != x.numel() || (inferred >= 0 && out[inferred] == -1))
    throw std::invalid_argument(fmt::format("reshape: shape {} is invalid for input of size {}",
                                            str(shape), x.numel()));
  return x.reshaped(out);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t rank = x.dim();
  if (static_cast<int64_t>(dims.size()) != rank)
    throw std::invalid_argument(fmt::format(
        "permute: number of dims don't match (input shape {}, dims {})", str(x.shape()), str(dims)));
  const Strides st = contiguousStrides(x.shape());
  View v;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t d : dims) {
    const int64_t n = normalizeDim("permute", d, rank);
    if (seen[n]) throw std::invalid_argument(fmt::format("permute: repeated dim in {}", str(dims)));
    seen[n] = true;
    v.shape.push_back(x.shape()[n]);
    v.strides.push_back(st[n]);
  }
  return materialize(x, v);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  const int64_t a = normalizeDim("transpose", dim0, x.dim());
  const int64_t b = normalizeDim("transpose", dim1, x.dim());
  if (x.dim() == 0) return x.clone();
  View v = identityView(x);
  std::swap(v.shape[a], v.shape[b]);
  std::swap(v.strides[a], v.strides[b]);
  return materialize(x, v);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = normalizeDim("unsqueeze", dim, x.dim() + 1);
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return x.reshaped(s);
}

Tensor squeeze(const Tensor& x) {
  Shape s;
  for (int64_t d : x.shape())
    if (d != 1) s.push_back(d);
  return x.reshaped(s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  const int64_t d = normalizeDim("squeeze", dim, x.dim());
  Shape s = x.shape();
  if (x.dim() > 0 && s[d] == 1) s.erase(s.begin() + d);
  return x.reshaped(s);
}

Tensor flatten(const Tensor& x, int64_t startDim, int64_t endDim) {
  if (x.dim() == 0) {
    normalizeDim("flatten", startDim, 0);
    normalizeDim("flatten", endDim, 0);
    return x.reshaped({1});
  }
  const int64_t s = normalizeDim("flatten", startDim, x.dim());
  const int64_t e = normalizeDim("flatten", endDim, x.dim());
  if (s > e)
    throw std::invalid_argument(fmt::format(
        "flatten: start_dim ({}) cannot come after end_dim ({})", startDim, endDim));
  Shape out(x.shape().begin(), x.shape().begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= x.shape()[d];
  out.push_back(n);
  out.insert(out.end(), x.shape().begin() + e + 1, x.shape().end());
  return x.reshaped(out);
}

Tensor expand(const Tensor& x, const std::vector<int64_t>& shape) {
  const int64_t rank = x.dim(), outRank = static_cast<int64_t>(shape.size());
  if (outRank < rank)
    throw std::invalid_argument(fmt::format(
        "expand: the number of sizes provided ({}) must be greater or equal to the number of "
        "dimensions in the tensor ({})",
        outRank, rank));
  const Strides st = contiguousStrides(x.shape());
  View v{Shape(outRank), Strides(outRank, 0), 0};
  for (int64_t i = 0; i < outRank; ++i) {
    const int64_t j = i - (outRank - rank);  // matching input dim, if any
    const int64_t target = shape[i];
    if (j < 0) {
      if (target < 0)
        throw std::invalid_argument(fmt::format(
            "expand: the expanded size of the tensor (-1) isn't allowed in a leading, "
            "non-existing dimension {} (target {}, tensor {})",
            i, str(shape), str(x.shape())));
      v.shape[i] = target;
      continue;
    }
    const int64_t have = x.shape()[j];
    if (target == -1 || target == have) {
      v.shape[i] = have;
      v.strides[i] = st[j];
    } else if (have == 1 && target >= 0) {
      v.shape[i] = target;
    } else {
      throw std::invalid_argument(fmt::format(
          "expand: the expanded size of the tensor ({}) must match the existing size ({}) at "
          "non-singleton dimension {}. Target sizes: {}. Tensor sizes: {}",
          target, have, i, str(shape), str(x.shape())));
    }
  }
  return materialize(x, v);
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> end, int64_t step) {
  return materialize(x, sliceView("slice", x, dim, start, end, step));
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  return materialize(x, selectView("select", x, dim, index));
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  if (x.dim() == 0) throw std::invalid_argument("narrow: cannot be applied to a 0-d tensor");
  const int64_t d = normalizeDim("narrow", dim, x.dim());
  const int64_t size = x.shape()[d];
  if (start < -size || start > size)
    throw std::out_of_range(fmt::format("narrow: start ({}) out of range for dimension {} of size {}",
                                        start, d, size));
  if (start < 0) start += size;
  if (length < 0 || length > size - start)
    throw std::out_of_range(fmt::format(
        "narrow: start ({}) + length ({}) exceeds dimension size ({}) of tensor {}", start,
        length, size, str(x.shape())));
  return slice(x, d, start, start + length, 1);
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  View v = identityView(x);
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(x.dim(), 1)), false);
  for (int64_t dim : dims) {
    const int64_t d = normalizeDim("flip", dim, x.dim());
    if (seen[d]) throw std::invalid_argument(fmt::format("flip: dim {} appears multiple times in {}", d, str(dims)));
    seen[d] = true;
    if (x.dim() == 0 || v.shape[d] == 0) continue;
    v.offset += (v.shape[d] - 1) * v.strides[d];
    v.strides[d] = -v.strides[d];
  }
  return materialize(x, v);
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  const int64_t n = static_cast<int64_t>(repeats.size());
  if (n < x.dim())
    throw std::invalid_argument(fmt::format(
        "repeat: number of dimensions of repeat dims ({}) can not be smaller than number of "
        "dimensions of tensor ({})",
        n, x.dim()));
  Shape padded(static_cast<size_t>(n - x.dim()), 1);
  padded.insert(padded.end(), x.shape().begin(), x.shape().end());
  const Strides st = contiguousStrides(padded);
  // Read x as [r0, s0, r1, s1, ...] with zero strides on the repeat dims.
  View v;
  Shape result;
  for (int64_t i = 0; i < n; ++i) {
    if (repeats[i] < 0)
      throw std::invalid_argument(fmt::format("repeat: repeats can not be negative, got {}", str(repeats)));
    v.shape.push_back(repeats[i]);
    v.strides.push_back(0);
    v.shape.push_back(padded[i]);
    v.strides.push_back(st[i]);
    result.push_back(repeats[i] * padded[i]);
  }
  return materialize(x, v).reshaped(result);
}

namespace {
Tensor triangle(const char* op, const Tensor& x, int64_t diagonal, bool lower) {
  if (x.dim() < 2)
    throw std::invalid_argument(fmt::format("{}: input tensor must have at least 2 dimensions, got {}",
                                            op, str(x.shape())));
  Tensor out = x.clone();
  const int64_t rows = x.shape()[x.dim() - 2], cols = x.shape().back();
  const int64_t mats = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  const int64_t es = ir::dtypeSize(x.dtype());
  auto* base = static_cast<std::byte*>(out.rawData());
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i) {
      std::byte* row = base + ((m * rows + i) * cols) * es;
      // tril keeps j <= i + diagonal, triu keeps j >= i + diagonal.
      const int64_t edge = lower ? std::clamp<int64_t>(i + diagonal + 1, 0, cols)
                                 : std::clamp<int64_t>(i + diagonal, 0, cols);
      if (lower)
        std::memset(row + edge * es, 0, static_cast<size_t>((cols - edge) * es));
      else
        std::memset(row, 0, static_cast<size_t>(edge * es));
    }
  return out;
}
}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle("tril", x, diagonal, true); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle("triu", x, diagonal, false); }

// ---- gathers ------------------------------------------------------------------

Tensor indexSelect(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  if (index.dim() > 1)
    throw std::invalid_argument(fmt::format("{}: index should have 0 or 1 dimensions, got {}", op,
                                            str(index.shape())));
  const int64_t d = normalizeDim(op, dim, x.dim());
  const std::vector<int64_t> idx = readIndices(op, index);
  const Shape xs = x.dim() == 0 ? Shape{1} : x.shape();
  Shape outShape = xs;
  outShape[d] = static_cast<int64_t>(idx.size());
  if (x.dim() == 0) outShape = index.shape();
  Tensor out = Tensor::empty(x.dtype(), outShape);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= xs[i];
  for (size_t i = d + 1; i < xs.size(); ++i) inner *= xs[i];
  const int64_t size = xs[d], es = ir::dtypeSize(x.dtype());
  std::vector<int64_t> wrapped(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) wrapped[j] = checkIndex(op, idx[j], size, d, false);
  const auto* src = static_cast<const std::byte*>(x.rawData());
  auto* dst = static_cast<std::byte*>(out.rawData());
  const size_t chunk = static_cast<size_t>(inner * es);
  for (int64_t o = 0; o < outer; ++o)
    for (size_t j = 0; j < wrapped.size(); ++j)
      std::memcpy(dst + (o * static_cast<int64_t>(wrapped.size()) + static_cast<int64_t>(j)) * inner * es,
                  src + (o * size + wrapped[j]) * inner * es, chunk);
  return out;
}

namespace {

/// Checks gather/scatter's index shape against x (and src) and returns the
/// normalised dim.
int64_t checkGatherShapes(const char* op, const Tensor& x, int64_t dim, const Tensor& index,
                          const Tensor* src) {
  const int64_t d = normalizeDim(op, dim, x.dim());
  if (index.dim() != x.dim() && !(index.numel() <= 1 && index.dim() <= 1 && x.dim() <= 1))
    throw std::invalid_argument(fmt::format(
        "{}: index tensor must have the same number of dimensions as input tensor (index {}, "
        "input {})",
        op, str(index.shape()), str(x.shape())));
  for (int64_t i = 0; i < index.dim() && index.dim() == x.dim(); ++i) {
    if (i != d && index.shape()[i] > x.shape()[i])
      throw std::invalid_argument(fmt::format(
          "{}: size of index {} does not fit the input {} at dimension {}", op,
          str(index.shape()), str(x.shape()), i));
    if (src && src->dim() > 0 && index.shape()[i] > src->shape()[i])
      throw std::invalid_argument(fmt::format(
          "{}: size of index {} does not fit the source {} at dimension {}", op,
          str(index.shape()), str(src->shape()), i));
  }
  if (src && src->dim() > 0 && src->dim() != index.dim())
    throw std::invalid_argument(fmt::format(
        "{}: source tensor must have the same number of dimensions as index ({} vs {})", op,
        str(src->shape()), str(index.shape())));
  return d;
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  const int64_t d = checkGatherShapes(op, x, dim, index, nullptr);
  const std::vector<int64_t> idx = readIndices(op, index);
  Tensor out = Tensor::empty(x.dtype(), index.shape());
  if (out.numel() == 0) return out;
  const Shape xs = x.dim() == 0 ? Shape{1} : x.shape();
  const Shape is = index.dim() == 0 ? Shape{1} : index.shape();
  Strides xStrides = contiguousStrides(xs);
  const int64_t dimStride = xStrides[d], size = xs[d];
  xStrides[d] = 0;  // the index supplies this coordinate
  const Strides iStrides = contiguousStrides(is);
  dispatchBySize(ir::dtypeSize(x.dtype()), [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* s = static_cast<const U*>(x.rawData());
    U* o = static_cast<U*>(out.rawData());
    forEachRun<2>(is, {&xStrides, &iStrides},
                  [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                    for (int64_t i = 0; i < n; ++i) {
                      const int64_t p = off[1] + i * st[1];
                      o[p] = s[off[0] + i * st[0] + checkIndex(op, idx[p], size, d, false) * dimStride];
                    }
                  });
  });
  return out;
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  const char* op = "cat";
  if (tensors.empty()) throw std::invalid_argument("cat: expected a non-empty list of tensors");
  DType dtype = tensors[0].dtype();
  for (const Tensor& t : tensors) dtype = promoteTypes(dtype, t.dtype());
  // Legacy rule: 1-d empty tensors are skipped whatever the other shapes.
  std::vector<const Tensor*> parts;
  for (const Tensor& t : tensors)
    if (!(t.dim() == 1 && t.numel() == 0)) parts.push_back(&t);
  if (parts.empty()) return Tensor::empty(dtype, tensors[0].shape());
  const Tensor& ref = *parts[0];
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].dim() == 0)
      throw std::invalid_argument(fmt::format(
          "cat: zero-dimensional tensor (at position {}) cannot be concatenated", i));
  const int64_t d = normalizeDim(op, dim, ref.dim());
  Shape outShape = ref.shape();
  outShape[d] = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Tensor& t = *parts[i];
    if (t.dim() != ref.dim())
      throw std::invalid_argument(fmt::format(
          "cat: tensors must have the same number of dimensions: got {} and {}", str(ref.shape()),
          str(t.shape())));
    for (int64_t k = 0; k < ref.dim(); ++k)
      if (k != d && t.shape()[k] != ref.shape()[k])
        throw std::invalid_argument(fmt::format(
            "cat: sizes of tensors must match except in dimension {}. Expected size {} but got "
            "size {} for tensor number {} in the list (shapes {} and {})",
            d, ref.shape()[k], t.shape()[k], i, str(ref.shape()), str(t.shape())));
    outShape[d] += t.shape()[d];
  }
  Tensor out = Tensor::empty(dtype, outShape);
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= outShape[k];
  for (size_t k = d + 1; k < outShape.size(); ++k) inner *= outShape[k];
  const int64_t es = ir::dtypeSize(dtype), outRow = outShape[d] * inner * es;
  auto* dst = static_cast<std::byte*>(out.rawData());
  int64_t col = 0;
  for (const Tensor* p : parts) {
    const Tensor t = toDType(*p, dtype);
    const int64_t row = t.shape()[d] * inner * es;
    const auto* src = static_cast<const std::byte*>(t.rawData());
    for (int64_t o = 0; o < outer && row > 0; ++o)
      std::memcpy(dst + o * outRow + col, src + o * row, static_cast<size_t>(row));
    col += row;
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw std::invalid_argument("stack: expected a non-empty list of tensors");
  const int64_t d = normalizeDim("stack", dim, tensors[0].dim() + 1);
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].shape() != tensors[0].shape())
      throw std::invalid_argument(fmt::format(
          "stack: expects each tensor to be equal size, but got {} at entry 0 and {} at entry {}",
          str(tensors[0].shape()), str(tensors[i].shape()), i));
    Shape s = tensors[i].shape();
    s.insert(s.begin() + d, 1);
    parts.push_back(tensors[i].reshaped(s));
  }
  return cat(parts, d);
}

std::vector<Tensor> splitWithSizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  if (x.dim() == 0) throw std::invalid_argument("split_with_sizes: cannot split a 0-d tensor");
  const int64_t d = normalizeDim("split_with_sizes", dim, x.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      throw std::invalid_argument(fmt::format("split_with_sizes: negative split size in {}", str(sizes)));
    total += s;
  }
  if (total != x.shape()[d])
    throw std::invalid_argument(fmt::format(
        "split_with_sizes: split sizes {} must sum to the size of dimension {} ({}) of tensor {}",
        str(sizes), d, x.shape()[d], str(x.shape())));
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(x, d, start, start + s, 1));
    start += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, int64_t splitSize, int64_t dim) {
  if (x.dim() == 0) throw std::invalid_argument("split: cannot split a 0-d tensor");
  const int64_t d = normalizeDim("split", dim, x.dim());
  const int64_t size = x.shape()[d];
  if (splitSize < 0 || (splitSize == 0 && size != 0))
    throw std::invalid_argument(fmt::format(
        "split: split_size can only be 0 if dimension size is 0, got split_size {} for {}",
        splitSize, str(x.shape())));
  const int64_t parts = splitSize == 0 ? 1 : std::max<int64_t>((size + splitSize - 1) / splitSize, 1);
  std::vector<int64_t> sizes(static_cast<size_t>(parts), splitSize);
  sizes.back() = size - splitSize * (parts - 1);
  return splitWithSizes(x, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  if (chunks <= 0)
    throw std::invalid_argument(fmt::format("chunk: number of chunks must be positive, got {}", chunks));
  if (x.dim() == 0) throw std::invalid_argument("chunk: cannot chunk a 0-d tensor");
  const int64_t d = normalizeDim("chunk", dim, x.dim());
  const int64_t size = x.shape()[d];
  const int64_t splitSize = (size + chunks - 1) / chunks;
  if (splitSize == 0 && size == 0) return splitWithSizes(x, std::vector<int64_t>(chunks, 0), d);
  return split(x, splitSize, d);
}

// ---- advanced indexing -------------------------------------------------------------

namespace {

/// Element offsets (row-major order) of every position of a strided sub-shape.
std::vector<int64_t> enumerateOffsets(const Shape& shape, const Strides& strides) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(numElements(shape)));
  forEachRun<1>(shape, {&strides}, [&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
    for (int64_t i = 0; i < n; ++i) out.push_back(off[0] + i * st[0]);
  });
  return out;
}

struct IndexPlan {
  Shape shape;                   // the shape of x[indices]
  std::vector<int64_t> offsets;  // element offset into x of each result element
};

IndexPlan planIndex(const char* op, const Tensor& x, const std::vector<std::optional<Tensor>>& indices) {
  const int64_t rank = x.dim();
  // Expand masks into coordinate lists; one entry (or none) per dim of x.
  struct Entry {
    std::vector<int64_t> values;
    Shape shape;
  };
  std::vector<std::optional<Entry>> perDim;
  for (const std::optional<Tensor>& given : indices) {
    if (!given || !given->defined()) {
      perDim.emplace_back();
      continue;
    }
    // ATen reads a uint8 index as a mask (deprecated in favour of bool, still taken).
    const Tensor mask = given->dtype() == DType::U8 ? cast(*given, DType::I1) : Tensor();
    const Tensor* idx = mask.defined() ? &mask : &*given;
    if (idx->dtype() != DType::I1) {
      perDim.push_back(Entry{readIndices(op, *idx), idx->shape()});
      continue;
    }
    const int64_t pos = static_cast<int64_t>(perDim.size());
    const int64_t k = idx->dim();
    if (k == 0)
      throw std::invalid_argument(fmt::format("{}: 0-d boolean masks are not supported", op));
    for (int64_t j = 0; j < k; ++j)
      if (pos + j >= rank || idx->shape()[j] != x.shape()[pos + j])
        throw std::invalid_argument(fmt::format(
            "{}: the shape of the mask {} at index {} does not match the shape of the indexed "
            "tensor {} at index {}",
            op, str(idx->shape()), j, str(x.shape()), pos + j));
    // nonzero(): one coordinate list per mask dim.
    std::vector<Entry> coords(static_cast<size_t>(k));
    const bool* m = idx->data<bool>();
    const Strides ms = contiguousStrides(idx->shape());
    for (int64_t e = 0; e < idx->numel(); ++e)
      if (m[e])
        for (int64_t j = 0; j < k; ++j) coords[j].values.push_back((e / ms[j]) % idx->shape()[j]);
    for (Entry& c : coords) {
      c.shape = {static_cast<int64_t>(c.values.size())};
      perDim.push_back(std::move(c));
    }
  }
  if (static_cast<int64_t>(perDim.size()) > rank)
    throw std::out_of_range(fmt::format("{}: too many indices for tensor of dimension {} (got {})",
                                        op, rank, perDim.size()));
  perDim.resize(static_cast<size_t>(rank));

  const Strides xs = contiguousStrides(x.shape());
  std::vector<int64_t> indexed, rest;
  Shape bshape;
  for (int64_t d = 0; d < rank; ++d) {
    if (perDim[d]) {
      indexed.push_back(d);
      bshape = broadcastShapes(op, bshape, perDim[d]->shape);
    } else {
      rest.push_back(d);
    }
  }
  if (indexed.empty()) return {x.shape(), enumerateOffsets(x.shape(), xs)};

  // Offset contributed by the index tensors at each broadcast position.
  const int64_t nb = numElements(bshape);
  std::vector<int64_t> base(static_cast<size_t>(nb), 0);
  for (int64_t d : indexed) {
    const Entry& e = *perDim[d];
    const std::vector<int64_t> pos = enumerateOffsets(bshape, broadcastStrides(e.shape, bshape));
    for (int64_t b = 0; b < nb; ++b) base[b] += checkIndex(op, e.values[pos[b]], x.shape()[d], d, true) * xs[d];
  }
  // Adjacent index dims keep their place; separated ones go first.
  const bool adjacent = indexed.back() - indexed.front() + 1 == static_cast<int64_t>(indexed.size());
  Shape beforeShape, afterShape;
  Strides beforeStrides, afterStrides;
  for (int64_t d : rest) {
    const bool before = adjacent && d < indexed.front();
    (before ? beforeShape : afterShape).push_back(x.shape()[d]);
    (before ? beforeStrides : afterStrides).push_back(xs[d]);
  }
  IndexPlan plan;
  plan.shape = beforeShape;
  plan.shape.insert(plan.shape.end(), bshape.begin(), bshape.end());
  plan.shape.insert(plan.shape.end(), afterShape.begin(), afterShape.end());
  const std::vector<int64_t> pre = enumerateOffsets(beforeShape, beforeStrides);
  const std::vector<int64_t> post = enumerateOffsets(afterShape, afterStrides);
  plan.offsets.reserve(pre.size() * base.size() * post.size());
  for (int64_t p : pre)
    for (int64_t b : base)
      for (int64_t q : post) plan.offsets.push_back(p + b + q);
  return plan;
}

}  // namespace

Tensor index(const Tensor& x, const std::vector<std::optional<Tensor>>& indices) {
  const IndexPlan plan = planIndex("index", x, indices);
  Tensor out = Tensor::empty(x.dtype(), plan.shape);
  dispatchBySize(ir::dtypeSize(x.dtype()), [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* s = static_cast<const U*>(x.rawData());
    U* d = static_cast<U*>(out.rawData());
    for (size_t i = 0; i < plan.offsets.size(); ++i) d[i] = s[plan.offsets[i]];
  });
  return out;
}

Tensor indexPut(Tensor base, const std::vector<std::optional<Tensor>>& indices,
                const Tensor& values, bool accumulate) {
  const IndexPlan plan = planIndex("index_put", base, indices);
  const Tensor v = toDType(broadcastTo("index_put", values, plan.shape), base.dtype());
  Tensor out = writable(std::move(base));
  dispatch("index_put", out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = out.data<T>();
    const T* s = v.data<T>();
    for (size_t i = 0; i < plan.offsets.size(); ++i) {
      if (!accumulate) {
        d[plan.offsets[i]] = s[i];
      } else if constexpr (std::is_same_v<T, bool>) {
        d[plan.offsets[i]] = d[plan.offsets[i]] || s[i];
      } else {
        d[plan.offsets[i]] = static_cast<T>(d[plan.offsets[i]] + s[i]);
      }
    }
  });
  return out;
}

// ---- functional writes ------------------------------------------------------------------

namespace {
Tensor scatterView(const char* op, Tensor base, const View& v, const Tensor& src) {
  const Tensor s = toDType(broadcastTo(op, src, v.shape), base.dtype());
  Tensor out = writable(std::move(base));
  writeView(out, v, s);
  return out;
}
}  // namespace

Tensor sliceScatter(Tensor base, const Tensor& src, int64_t dim, std::optional<int64_t> start,
                    std::optional<int64_t> end, int64_t step) {
  const View v = sliceView("slice_scatter", base, dim, start, end, step);
  return scatterView("slice_scatter", std::move(base), v, src);
}

Tensor selectScatter(Tensor base, const Tensor& src, int64_t dim, int64_t index) {
  const View v = selectView("select_scatter", base, dim, index);
  return scatterView("select_scatter", std::move(base), v, src);
}

Tensor copyInto(const Tensor& dst, const Tensor& src) {
  return toDType(broadcastTo("copy_", src, dst.shape()), dst.dtype()).clone();
}

Tensor scatter(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& src) {
  const char* op = "scatter";
  const bool scalar = src.dim() == 0;
  const int64_t d = checkGatherShapes(op, base, dim, index, scalar ? nullptr : &src);
  const std::vector<int64_t> idx = readIndices(op, index);
  Tensor out = base.clone();
  if (index.numel() == 0) return out;
  const Tensor s = toDType(src, base.dtype());
  const Shape bs = base.dim() == 0 ? Shape{1} : base.shape();
  const Shape is = index.dim() == 0 ? Shape{1} : index.shape();
  Strides oStrides = contiguousStrides(bs);
  const int64_t dimStride = oStrides[d], size = bs[d];
  oStrides[d] = 0;
  const Strides iStrides = contiguousStrides(is);
  const Strides sStrides = scalar ? Strides(is.size(), 0) : contiguousStrides(s.dim() == 0 ? Shape{1} : s.shape());
  dispatchBySize(ir::dtypeSize(base.dtype()), [&](auto tag) {
    using U = typename decltype(tag)::type;
    U* o = static_cast<U*>(out.rawData());
    const U* sp = static_cast<const U*>(s.rawData());
    forEachRun<3>(is, {&oStrides, &iStrides, &sStrides},
                  [&](std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
                    for (int64_t i = 0; i < n; ++i) {
                      const int64_t p = off[1] + i * st[1];
                      o[off[0] + i * st[0] + checkIndex(op, idx[p], size, d, false) * dimStride] =
                          sp[off[2] + i * st[2]];
                    }
                  });
  });
  return out;
}

}  // namespace cocktail::runtime::cpu
