//===- runtime/cpu/Linalg.cpp - matmul, linear, addmm on OpenBLAS ----------===//
//
// Every product reduces to one row-major GEMM call per (broadcast) batch
// element: cblas_sgemm / cblas_dgemm for F32 / F64, a plain i-k-j loop for
// integers (ATen supports integer matmul on the CPU too). When the right
// operand has no batch dims, the left operand's batch is folded into its
// rows so that e.g. [B, T, K] @ [K, M] is a single GEMM.
//
//===----------------------------------------------------------------------===//
#include <cblas.h>
#include <cstring>

#include "runtime/cpu/Gemm.h"
#include "runtime/cpu/Gemv.h"
#include "runtime/cpu/WorkerPool.h"
#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/Kernels.h"

namespace cocktail::runtime::cpu {

using namespace detail;

namespace {

/// C[n, m] = alpha * op(A)[n, k] @ op(B)[k, m] + beta * C, all row-major.
/// With beta == 0, C is never read (so NaN/garbage in it does not propagate).
template <typename T>
void gemm(bool transA, bool transB, int64_t n, int64_t m, int64_t k, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (n == 0 || m == 0) return;
  if (k == 0 || alpha == T(0)) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : T(beta * C[i * ldc + j]);
    if (k == 0) return;
  }
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    // One row of output is a matrix-vector product: GEMV streams the matrix
    // once, where a GEMM with n == 1 still packs it (OpenBLAS 0.3.21 does not
    // forward that case itself). Row-major C = a @ op(B) is op(B)^T @ a.
    if constexpr (std::is_same_v<T, float>) {
      if (n == 1 && !transA) {
        // Split the outputs over the workers when each gets >= 64 KiB of the matrix.
        const int64_t minOut = std::max<int64_t>(64, (int64_t{16} << 10) / std::max<int64_t>(k, 1));
        parallelFor(m, minOut, [&](int64_t j0, int64_t j1) {
          if (transB) gemvRowsF32(B, ldb, A, k, alpha, beta, C, j0, j1);
          else gemvColsF32(B, ldb, A, k, alpha, beta, C, j0, j1);
        });
        return;
      }
    }
    if constexpr (std::is_same_v<T, float>) {
      if (!transA && alpha == 1.0f) {
        // Columns split over the workers, at least 64 each (two panels).
        const BLayout layout = transB ? BLayout::Transposed : BLayout::RowMajor;
        parallelFor(m, 64, [&](int64_t j0, int64_t j1) {
          gemmF32(n, k, A, lda, B, ldb, beta, C, ldc, j0, j1, nullptr, layout);
        });
        return;
      }
    }
    if (n == 1 && !transA) {
      const auto i = [](int64_t v) { return static_cast<int>(std::max<int64_t>(v, 1)); };
      // op(B) is [k, m]: stored [k, m] (ldb) untransposed or [m, k] transposed.
      const auto tb = transB ? CblasNoTrans : CblasTrans;
      const int rows = static_cast<int>(transB ? m : k), cols = static_cast<int>(transB ? k : m);
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemv(CblasRowMajor, tb, rows, cols, alpha, B, i(ldb), A, 1, beta, C, 1);
      else
        cblas_dgemv(CblasRowMajor, tb, rows, cols, alpha, B, i(ldb), A, 1, beta, C, 1);
      return;
    }
    const auto ta = transA ? CblasTrans : CblasNoTrans;
    const auto tb = transB ? CblasTrans : CblasNoTrans;
    const auto i = [](int64_t v) { return static_cast<int>(std::max<int64_t>(v, 1)); };
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, ta, tb, i(n), i(m), i(k), alpha, A, i(lda), B, i(ldb), beta, C, i(ldc));
    else
      cblas_dgemm(CblasRowMajor, ta, tb, i(n), i(m), i(k), alpha, A, i(lda), B, i(ldb), beta, C, i(ldc));
  } else {
    for (int64_t r = 0; r < n; ++r) {
      T* c = C + r * ldc;
      for (int64_t j = 0; j < m; ++j) c[j] = beta == T(0) ? T(0) : T(beta * c[j]);
      for (int64_t p = 0; p < k; ++p) {
        const T av = T(alpha * (transA ? A[p * lda + r] : A[r * lda + p]));
        if (transB) {
          for (int64_t j = 0; j < m; ++j) c[j] = T(c[j] + av * B[j * ldb + p]);
        } else {
          const T* b = B + p * ldb;
          for (int64_t j = 0; j < m; ++j) c[j] = T(c[j] + av * b[j]);
        }
      }
    }
  }
}

/// Dispatch over the dtypes that products support (everything but bool).
template <typename F>
decltype(auto) dispatchMatmul(const char* op, DType t, F&& f) {
  if (t == DType::I1) throwUnsupported(op, t);
  return dispatch(op, t, std::forward<F>(f));
}

void checkSameDType(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(fmt::format(
        "{}: expected both operands to have the same dtype, got {} and {}", op,
        a.typeString(), b.typeString()));
}

[[noreturn]] void throwCannotMultiply(const char* op, const Tensor& a, const Tensor& b) {
  throw std::invalid_argument(fmt::format("{}: shapes {} and {} cannot be multiplied", op,
                                          str(a.shape()), str(b.shape())));
}

/// Batched product of a [*batchA, n, k] and b [*batchB, k, m] (broadcast
/// batches) into out [*batch, n, m], accumulating onto out when beta != 0.
void batchedGemm(const char* op, const Tensor& a, const Tensor& b, Tensor& out, double alpha,
                 double beta) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const int64_t n = sa[sa.size() - 2], k = sa.back(), m = sb.back();
  const Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  const Shape batch(out.shape().begin(), out.shape().end() - 2);
  dispatchMatmul(op, a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* pc = out.data<T>();
      const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
      if (batchB.empty() || numElements(batchB) == 1) {
        // Fold every batch of a into the rows of one GEMM when a is not broadcast.
        if (numElements(batchA) == numElements(batch)) {
          gemm<T>(false, false, numElements(batch) * n, m, k, al, pa, k, pb, m, be, pc, m);
          return;
        }
      }
      // One GEMM per batch element, with broadcast strides counted in matrices.
      const Strides stA = broadcastStrides(batchA, batch), stB = broadcastStrides(batchB, batch);
      const Strides stC = contiguousStrides(batch);
      Shape loopShape = batch;
      loopShape.push_back(1);  // forEachRun needs a dim to call back with
      Strides la = stA, lb = stB, lc = stC;
      la.push_back(0), lb.push_back(0), lc.push_back(0);
      // The matrices of each product, in this thread's list (reused across calls).
      thread_local std::vector<std::array<int64_t, 3>> products;
      products.clear();
      forEachRun<3>(loopShape, {&la, &lb, &lc},
                    [&](std::array<int64_t, 3> off, int64_t cnt, std::array<int64_t, 3> st) {
                      for (int64_t i = 0; i < cnt; ++i)
                        products.push_back({off[0] + i * st[0], off[1] + i * st[1], off[2] + i * st[2]});
                    });
      const auto& list = products;  // the workers read the caller's list
      auto run = [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
          const auto& [ia, ib, ic] = list[static_cast<size_t>(p)];
          gemm<T>(false, false, n, m, k, al, pa + ia * n * k, k, pb + ib * k * m, m, be, pc + ic * n * m, m);
        }
      };
      // Small products (NASRNN's eight 256x256 GEMVs per step) go to the
      // workers whole, one fork and join for all of them; a large one splits
      // itself over the workers instead. Tiny ones together (attention's
      // twelve 64x64 heads, 50k multiply-adds) are not worth waking a worker.
      const int64_t count = static_cast<int64_t>(list.size());
      const int64_t work = n * m * k;
      if (count >= 2 && work <= (int64_t{1} << 20) && count * work >= (int64_t{1} << 18))
        parallelFor(count, 1, run);
      else
        run(0, count);
    }
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const char* op = "matmul";
  if (a.dim() == 0 || b.dim() == 0)
    throw std::invalid_argument(fmt::format(
        "matmul: both arguments need to be at least 1-d, but they are {}-d and {}-d", a.dim(),
        b.dim()));
  checkSameDType(op, a, b);
  const Tensor a2 = a.dim() == 1 ? a.reshaped({1, a.numel()}) : a;
  const Tensor b2 = b.dim() == 1 ? b.reshaped({b.numel(), 1}) : b;
  const Shape& sa = a2.shape();
  const Shape& sb = b2.shape();
  if (sa.back() != sb[sb.size() - 2]) throwCannotMultiply(op, a, b);
  Shape batch = broadcastShapes(op, Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2));
  Shape full = batch;
  full.push_back(sa[sa.size() - 2]);
  full.push_back(sb.back());
  Tensor out = Tensor::empty(a.dtype(), full);
  batchedGemm(op, a2, b2, out, 1.0, 0.0);
  // Drop the dims that were added for 1-d operands.
  Shape result = batch;
  if (a.dim() > 1) result.push_back(sa[sa.size() - 2]);
  if (b.dim() > 1) result.push_back(sb.back());
  return out.reshaped(result);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2)
    throw std::invalid_argument(fmt::format("mm: expected two matrices, got shapes {} and {}",
                                            str(a.shape()), str(b.shape())));
  checkSameDType("mm", a, b);
  if (a.shape()[1] != b.shape()[0]) throwCannotMultiply("mm", a, b);
  Tensor out = Tensor::empty(a.dtype(), {a.shape()[0], b.shape()[1]});
  batchedGemm("mm", a, b, out, 1.0, 0.0);
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  if (a.dim() != 3 || b.dim() != 3)
    throw std::invalid_argument(fmt::format("bmm: expected two 3-d tensors, got shapes {} and {}",
                                            str(a.shape()), str(b.shape())));
  checkSameDType("bmm", a, b);
  if (a.shape()[0] != b.shape()[0] || a.shape()[2] != b.shape()[1]) throwCannotMultiply("bmm", a, b);
  Tensor out = Tensor::empty(a.dtype(), {a.shape()[0], a.shape()[1], b.shape()[2]});
  batchedGemm("bmm", a, b, out, 1.0, 0.0);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor* bias, const PackedPanels* packed) {
  const char* op = "linear";
  if (w.dim() != 2) {
    // ATen computes x @ w.t(); for a 1-d weight that is a dot product.
    Tensor y = matmul(x, w.dim() == 1 ? w : transpose(w, 0, -1));
    return bias ? add(y, *bias) : y;
  }
  checkSameDType(op, x, w);
  if (x.dim() == 0 || x.shape().back() != w.shape()[1])
    throw std::invalid_argument(fmt::format("linear: shapes {} and {} cannot be multiplied",
                                            str(x.shape()), str(transpose(w, 0, 1).shape())));
  const int64_t in = w.shape()[1], outF = w.shape()[0];
  Shape outShape(x.shape().begin(), x.shape().end() - 1);
  outShape.push_back(outF);
  const int64_t rowsOut = numElements(outShape) / std::max<int64_t>(outF, 1);
  // The result is the first tensor made here: the executor's memory plan
  // places it (runtime/TensorPlacement.h).
  Tensor out = Tensor::empty(x.dtype(), outShape);
  double beta = 0.0;
  if (bias && bias->defined()) {
    checkSameDType(op, x, *bias);
    if (bias->numel() == outF) {
      // Every row starts as the bias; the product adds to it.
      const auto* b = static_cast<const std::byte*>(bias->rawData());
      auto* o = static_cast<std::byte*>(out.rawData());
      const size_t rowBytes = static_cast<size_t>(outF * ir::dtypeSize(x.dtype()));
      for (int64_t r = 0; r < rowsOut; ++r) std::memcpy(o + r * rowBytes, b, rowBytes);
    } else {
      const Tensor full = broadcastTo(op, *bias, outShape);
      std::memcpy(out.rawData(), full.rawData(), static_cast<size_t>(out.nbytes()));
    }
    beta = 1.0;
  }
  if (packed && x.dtype() == DType::F32 && rowsOut > 1 && in > 0) {
    if (packed->k() != in || packed->m() != outF)
      throw std::invalid_argument(fmt::format("linear: packed weights for [{}, {}] given a weight of shape {}",
                                              packed->m(), packed->k(), str(w.shape())));
    // As gemm's column split, in whole panels, none packed here.
    parallelFor(packed->numPanels(), 2, [&](int64_t q0, int64_t q1) {
      gemmF32Packed(rowsOut, x.data<float>(), in, *packed, static_cast<float>(beta), out.data<float>(), outF, q0, q1);
    });
    return out;
  }
  dispatchMatmul(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      gemm<T>(false, true, rowsOut, outF, in, T(1), x.data<T>(), in, w.data<T>(), in, T(beta),
              out.data<T>(), outF);
  });
  return out;
}

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, double beta, double alpha) {
  if (m1.dim() != 2 || m2.dim() != 2)
    throw std::invalid_argument(fmt::format("addmm: expected two matrices, got shapes {} and {}",
                                            str(m1.shape()), str(m2.shape())));
  checkSameDType("addmm", m1, m2);
  checkSameDType("addmm", input, m1);
  if (m1.shape()[1] != m2.shape()[0]) throwCannotMultiply("addmm", m1, m2);
  const Shape shape{m1.shape()[0], m2.shape()[1]};
  Tensor out = beta == 0.0 ? Tensor::empty(m1.dtype(), shape)
                           : broadcastTo("addmm", input, shape).clone();
  batchedGemm("addmm", m1, m2, out, alpha, beta);
  return out;
}

Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, double beta, double alpha) {
  if (b1.dim() != 3 || b2.dim() != 3)
    throw std::invalid_argument(fmt::format(
        "baddbmm: expected two 3-d tensors, got shapes {} and {}", str(b1.shape()), str(b2.shape())));
  checkSameDType("baddbmm", b1, b2);
  checkSameDType("baddbmm", input, b1);
  if (b1.shape()[0] != b2.shape()[0] || b1.shape()[2] != b2.shape()[1])
    throwCannotMultiply("baddbmm", b1, b2);
  const Shape shape{b1.shape()[0], b1.shape()[1], b2.shape()[2]};
  Tensor out = beta == 0.0 ? Tensor::empty(b1.dtype(), shape)
                           : broadcastTo("baddbmm", input, shape).clone();
  batchedGemm("baddbmm", b1, b2, out, alpha, beta);
  return out;
}

}  // namespace cocktail::runtime::cpu
