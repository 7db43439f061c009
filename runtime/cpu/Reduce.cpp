//===- runtime/cpu/Reduce.cpp - Reductions and softmax ---------------------===//
//
// Every reduction is planned as [outer, R, inner]: when the reduced dims form
// one contiguous block the input is read in place, otherwise it is permuted
// once so that they are trailing (inner = 1). Floating sums accumulate in
// double so that results agree with ATen's pairwise sums to well below 1e-5.
//
//===----------------------------------------------------------------------===//
#include <cmath>
#include <limits>

#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Vec16.h"
#include "runtime/cpu/VecMath.h"
#include "runtime/cpu/WorkerPool.h"

namespace cocktail::runtime::cpu {

using namespace detail;

namespace {

struct ReducePlan {
  Tensor input;  // contiguous, viewed as [outer, R, inner]
  int64_t outer = 1, reduced = 1, inner = 1;
  Shape outShape;
};

ReducePlan planReduce(const char* op, const Tensor& x, const std::vector<int64_t>& dims,
                      bool keepdim) {
  const int64_t rank = x.dim();
  std::vector<bool> isReduced(static_cast<size_t>(rank), dims.empty());
  for (int64_t d : dims) {
    const int64_t n = normalizeDim(op, d, rank);
    if (rank == 0) continue;  // a 0-d tensor "reduces" over its implicit dim
    if (isReduced[n])
      throw std::invalid_argument(
          fmt::format("{}: dim {} appears multiple times in the list of dims", op, n));
    isReduced[n] = true;
  }
  ReducePlan plan;
  const Shape& shape = x.shape();
  int64_t first = -1, last = -1;
  for (int64_t d = 0; d < rank; ++d) {
    if (isReduced[d]) {
      if (first < 0) first = d;
      last = d;
      if (keepdim) plan.outShape.push_back(1);
    } else {
      plan.outShape.push_back(shape[d]);
    }
  }
  bool contiguousBlock = true;
  for (int64_t d = first; first >= 0 && d <= last; ++d) contiguousBlock &= isReduced[d];
  if (first < 0) {  // nothing to reduce (0-d input)
    plan.input = x;
    plan.outer = x.numel();
    return plan;
  }
  if (contiguousBlock) {
    plan.input = x;
    for (int64_t d = 0; d < first; ++d) plan.outer *= shape[d];
    for (int64_t d = first; d <= last; ++d) plan.reduced *= shape[d];
    for (int64_t d = last + 1; d < rank; ++d) plan.inner *= shape[d];
    return plan;
  }
  // Move the reduced dims to the end with one copy.
  const Strides st = contiguousStrides(shape);
  Shape permShape;
  Strides permStrides;
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t d = 0; d < rank; ++d)
      if (isReduced[d] == (pass == 1)) {
        permShape.push_back(shape[d]);
        permStrides.push_back(st[d]);
        (pass == 1 ? plan.reduced : plan.outer) *= shape[d];
      }
  plan.input = stridedCopy(x, permShape, permStrides, 0);
  return plan;
}

template <typename T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

/// Sum of x[0, n) in eight interleaved partial sums: one chain of dependent
/// adds would wait out the add's latency on every element (a mean over H
/// and W of a feature map).
template <typename T, typename Acc>
[[gnu::always_inline]] inline Acc sumRow(const T* x, int64_t n) {
  Acc lanes[8] = {};
  int64_t r = 0;
  for (; r + 8 <= n; r += 8)
    for (int l = 0; l < 8; ++l) lanes[l] += static_cast<Acc>(x[r + l]);
  for (; r < n; ++r) lanes[0] += static_cast<Acc>(x[r]);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

/// sumRow of floats in double, compiled per ISA: under AVX-512 the eight
/// lanes are one vector, converted and added in two instructions.
COCKTAIL_MULTIVERSION
double sumRowF32(const float* x, int64_t n) { return sumRow<float, double>(x, n); }

/// out[o, i] = sum_r x[o, r, i] in accumulator type, converted to O. The
/// outer rows split over the workers (a mean over H and W of a feature map
/// is one row per channel); each output's sum is the same either way.
template <typename T, typename O>
void sumKernel(const ReducePlan& p, Tensor& out, double scale) {
  using Acc = SumAcc<T>;
  const T* x = p.input.data<T>();
  O* y = out.data<O>();
  const int64_t rowElements = std::max<int64_t>(1, p.reduced * p.inner);
  parallelFor(p.outer, std::max<int64_t>(1, 16384 / rowElements), [&](int64_t o0, int64_t o1) {
    thread_local std::vector<Acc> accScratch;
    accScratch.resize(static_cast<size_t>(p.inner));  // zeroed per row below
    Acc* acc = accScratch.data();
    for (int64_t o = o0; o < o1; ++o) {
      std::fill(acc, acc + p.inner, Acc(0));
      const T* block = x + o * p.reduced * p.inner;
      if (p.inner == 1) {
        if constexpr (std::is_same_v<T, float>)
          acc[0] = sumRowF32(block, p.reduced);
        else
          acc[0] = sumRow<T, Acc>(block, p.reduced);
      } else {
        for (int64_t r = 0; r < p.reduced; ++r) {
          const T* row = block + r * p.inner;
          for (int64_t i = 0; i < p.inner; ++i) acc[i] += static_cast<Acc>(row[i]);
        }
      }
      for (int64_t i = 0; i < p.inner; ++i) {
        if constexpr (std::is_floating_point_v<O>)
          y[o * p.inner + i] = static_cast<O>(static_cast<double>(acc[i]) * scale);
        else
          y[o * p.inner + i] = convert<O>(acc[i]);
      }
    }
  });
}

/// Generic fold for max/min/any/all: acc = f(acc, v), starting from the first element.
template <typename T, typename F>
Tensor foldReduce(const char* op, const ReducePlan& p, F f) {
  Tensor out = Tensor::empty(dtypeOf<T>(), p.outShape);
  if (out.numel() == 0) return out;
  if (p.reduced == 0)
    throw std::invalid_argument(fmt::format(
        "{}: cannot reduce over a dimension of size 0 because the operation has no identity "
        "(input shape {})",
        op, str(p.input.shape())));
  const T* x = p.input.data<T>();
  T* y = out.data<T>();
  for (int64_t o = 0; o < p.outer; ++o) {
    const T* block = x + o * p.reduced * p.inner;
    T* dst = y + o * p.inner;
    std::copy(block, block + p.inner, dst);
    for (int64_t r = 1; r < p.reduced; ++r) {
      const T* row = block + r * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) dst[i] = f(dst[i], row[i]);
    }
  }
  return out;
}

template <typename T>
T maxCombine(T acc, T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(acc) || std::isnan(v)) return std::isnan(acc) ? acc : v;
  return v > acc ? v : acc;
}

template <typename T>
T minCombine(T acc, T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(acc) || std::isnan(v)) return std::isnan(acc) ? acc : v;
  return v < acc ? v : acc;
}

Tensor extremum(const char* op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
                bool isMax) {
  const ReducePlan p = planReduce(op, x, dims, keepdim);
  return dispatch(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (isMax) return foldReduce<T>(op, p, [](T a, T b) { return maxCombine(a, b); });
    return foldReduce<T>(op, p, [](T a, T b) { return minCombine(a, b); });
  });
}

/// Values and first-occurrence indices along one dim; NaN beats everything.
std::pair<Tensor, Tensor> argExtremum(const char* op, const Tensor& x, int64_t dim, bool keepdim,
                                      bool isMax, bool wantValues) {
  const ReducePlan p = planReduce(op, x, {dim}, keepdim);
  if (p.reduced == 0 && numElements(p.outShape) > 0)
    throw std::invalid_argument(fmt::format(
        "{}: expected reduction dim {} to have non-zero size (input shape {})", op, dim,
        str(x.shape())));
  Tensor indices = Tensor::empty(DType::I64, p.outShape);
  Tensor values;
  dispatch(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (wantValues) values = Tensor::empty(x.dtype(), p.outShape);
    const T* in = p.input.data<T>();
    int64_t* idx = indices.data<int64_t>();
    T* val = wantValues ? values.data<T>() : nullptr;
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < p.inner; ++i) {
        const T* col = in + o * p.reduced * p.inner + i;
        T best = col[0];
        int64_t bestIdx = 0;
        for (int64_t r = 1; r < p.reduced; ++r) {
          const T v = col[r * p.inner];
          bool better;
          if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(best)) break;
            better = std::isnan(v) || (isMax ? v > best : v < best);
          } else {
            better = isMax ? v > best : v < best;
          }
          if (better) {
            best = v;
            bestIdx = r;
          }
        }
        idx[o * p.inner + i] = bestIdx;
        if (val) val[o * p.inner + i] = best;
      }
  });
  return {values, indices};
}

Tensor boolReduce(const char* op, const Tensor& x, std::optional<int64_t> dim, bool keepdim,
                  bool isAny) {
  dispatch(op, x.dtype(), [](auto) {});
  const Tensor b = toDType(x, DType::I1);
  std::vector<int64_t> dims;
  if (dim) dims.push_back(*dim);
  const ReducePlan p = planReduce(op, b, dims, dim ? keepdim : false);
  if (p.reduced == 0) return full(p.outShape, Tensor::scalarBool(!isAny), DType::I1);
  if (isAny) return foldReduce<bool>(op, p, [](bool a, bool v) { return a || v; });
  return foldReduce<bool>(op, p, [](bool a, bool v) { return a && v; });
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
           std::optional<DType> dtype) {
  dispatch("sum", x.dtype(), [](auto) {});
  const DType outType = dtype ? *dtype : (ir::isFloating(x.dtype()) ? x.dtype() : DType::I64);
  const Tensor in = toDType(x, dtype ? *dtype : (ir::isFloating(x.dtype()) ? x.dtype() : DType::I64));
  const ReducePlan p = planReduce("sum", in, dims, keepdim);
  Tensor out = Tensor::empty(outType, p.outShape);
  dispatch("sum", outType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      // Sum in I64, then convert (sum(dtype=bool) is "any nonzero").
      const ReducePlan pi = planReduce("sum", toDType(x, DType::I64), dims, keepdim);
      sumKernel<int64_t, bool>(pi, out, 1.0);
    } else {
      sumKernel<T, T>(p, out, 1.0);
    }
  });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
            std::optional<DType> dtype) {
  const DType outType = dtype.value_or(x.dtype());
  if (!ir::isFloating(outType))
    throw std::invalid_argument(fmt::format(
        "mean: could not infer output dtype. Input dtype must be either a floating point or "
        "complex dtype. Got: {}",
        ir::dtypeName(outType)));
  const Tensor in = toDType(x, outType);
  const ReducePlan p = planReduce("mean", in, dims, keepdim);
  Tensor out = Tensor::empty(outType, p.outShape);
  dispatchFloat("mean", outType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const double scale = p.reduced == 0 ? std::numeric_limits<double>::quiet_NaN()
                                        : 1.0 / static_cast<double>(p.reduced);
    sumKernel<T, T>(p, out, scale);
  });
  return out;
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum("amax", x, dims, keepdim, true);
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum("amin", x, dims, keepdim, false);
}

std::pair<Tensor, Tensor> maxDim(const Tensor& x, int64_t dim, bool keepdim) {
  return argExtremum("max", x, dim, keepdim, true, true);
}

std::pair<Tensor, Tensor> minDim(const Tensor& x, int64_t dim, bool keepdim) {
  return argExtremum("min", x, dim, keepdim, false, true);
}

Tensor maxAll(const Tensor& x) {
  if (x.numel() == 0)
    throw std::invalid_argument(fmt::format(
        "max: expected a non-empty tensor, got {} (use max(dim) for empty reductions)",
        x.typeString()));
  return extremum("max", x, {}, false, true);
}

Tensor minAll(const Tensor& x) {
  if (x.numel() == 0)
    throw std::invalid_argument(fmt::format("min: expected a non-empty tensor, got {}", x.typeString()));
  return extremum("min", x, {}, false, false);
}

namespace {
Tensor argReduce(const char* op, const Tensor& x, std::optional<int64_t> dim, bool keepdim,
                 bool isMax) {
  if (x.dtype() == DType::I1) throwUnsupported(op, x.dtype());  // as ATen
  if (dim) return argExtremum(op, x, *dim, keepdim, isMax, false).second;
  if (x.numel() == 0)
    throw std::invalid_argument(
        fmt::format("{}: expected a non-empty tensor, got {}", op, x.typeString()));
  Tensor flat = x.reshaped({x.numel()});
  Tensor idx = argExtremum(op, flat, 0, false, isMax, false).second;
  if (keepdim) return idx.reshaped(Shape(x.shape().size(), 1));
  return idx;
}
}  // namespace

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return argReduce("argmax", x, dim, keepdim, true);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return argReduce("argmin", x, dim, keepdim, false);
}

// ATen keeps uint8 for any/all of a uint8 tensor (its masks before bool existed).
Tensor any(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Tensor r = boolReduce("any", x, dim, keepdim, true);
  return x.dtype() == DType::U8 ? cast(r, DType::U8) : r;
}

Tensor all(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Tensor r = boolReduce("all", x, dim, keepdim, false);
  return x.dtype() == DType::U8 ? cast(r, DType::U8) : r;
}

// ---- softmax ------------------------------------------------------------------------

namespace {
Tensor softmaxImpl(const char* op, const Tensor& x, int64_t dim, bool log) {
  const ReducePlan p = planReduce(op, x, {dim}, true);
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = p.input.data<T>();
    T* y = out.data<T>();
    const int64_t R = p.reduced, I = p.inner;
    for (int64_t o = 0; o < p.outer; ++o)
      for (int64_t i = 0; i < I; ++i) {
        const T* src = in + o * R * I + i;
        T* dst = y + o * R * I + i;
        T mx = -std::numeric_limits<T>::infinity();
        for (int64_t r = 0; r < R; ++r) mx = std::max(mx, src[r * I]);
        if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: avoid inf - inf
        double total = 0;
        bool vectorRow = false;  // a contiguous f32 row: the vector exp over it, in place
        if constexpr (std::is_same_v<T, float>) {
          vectorRow = I == 1 && !log;
          if (vectorRow) {
            for (int64_t r = 0; r < R; ++r) dst[r] = src[r] - mx;
            expF32(dst, dst, R);
            for (int64_t r = 0; r < R; ++r) total += static_cast<double>(dst[r]);
          }
        }
        if (!vectorRow)
          for (int64_t r = 0; r < R; ++r) {
            const T e = std::exp(src[r * I] - mx);
            if (!log) dst[r * I] = e;
            total += static_cast<double>(e);
          }
        if (log) {
          const T shift = mx + static_cast<T>(std::log(total));
          for (int64_t r = 0; r < R; ++r) dst[r * I] = src[r * I] - shift;
        } else {
          const T inv = static_cast<T>(1.0 / total);
          for (int64_t r = 0; r < R; ++r) dst[r * I] *= inv;
        }
      }
  });
  return out;
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmaxImpl("softmax", x, dim, false); }

Tensor logSoftmax(const Tensor& x, int64_t dim) { return softmaxImpl("log_softmax", x, dim, true); }

}  // namespace cocktail::runtime::cpu
