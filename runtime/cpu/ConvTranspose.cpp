//===- runtime/cpu/ConvTranspose.cpp - torch.conv_transpose2d on the CPU ----------===//
//
// The gradient of a convolution with respect to its input, run forwards:
// per image and group, one GEMM makes every input pixel's contribution to
// every tap, cols [O/g*kh*kw, H*W] = w_g^T [O/g*kh*kw, C/g] @ x_g [C/g, H*W],
// and a col2im adds each tap's row into the output at its strided place.
// The GEMM is Gemm.h's (the weight transposed once per call, not per image);
// col2im splits over output channels, so no two workers write one plane, and
// its inner loop adds contiguous runs when the stride is 1.
//
//===----------------------------------------------------------------------===//
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "runtime/cpu/Gemm.h"
#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/WorkerPool.h"

namespace cocktail::runtime::cpu {

using namespace detail;

namespace {

struct Geometry {
  int64_t N, C, H, W;     // input
  int64_t O, kh, kw;      // output channels (all groups), kernel
  int64_t groups, Cg, Og;  // per group
  int64_t Ho, Wo;
};

Geometry checkGeometry(const Tensor& x, const Tensor& w, const Tensor* bias, std::array<int64_t, 2> stride,
                       std::array<int64_t, 2> padding, std::array<int64_t, 2> outputPadding,
                       std::array<int64_t, 2> dilation, int64_t groups) {
  const char* op = "conv_transpose2d";
  if (x.dim() != 3 && x.dim() != 4)
    throw std::invalid_argument(
        fmt::format("{}: expected a 3-d (unbatched) or 4-d (batched) input, got {}", op, str(x.shape())));
  if (w.dim() != 4) throw std::invalid_argument(fmt::format("{}: expected a 4-d weight, got {}", op, str(w.shape())));
  if (x.dtype() != w.dtype())
    throw std::invalid_argument(
        fmt::format("{}: input ({}) and weight ({}) differ in dtype", op, x.typeString(), w.typeString()));
  if (groups <= 0) throw std::invalid_argument(fmt::format("{}: groups must be positive, got {}", op, groups));
  for (int i = 0; i < 2; ++i) {
    if (stride[i] <= 0 || dilation[i] <= 0 || padding[i] < 0 || outputPadding[i] < 0)
      throw std::invalid_argument(fmt::format("{}: invalid stride {}, dilation {}, padding {} or output_padding {}",
                                              op, stride[i], dilation[i], padding[i], outputPadding[i]));
    if (outputPadding[i] >= std::max(stride[i], dilation[i]))
      throw std::invalid_argument(fmt::format("{}: output padding {} must be smaller than either stride {} or "
                                              "dilation {}",
                                              op, outputPadding[i], stride[i], dilation[i]));
  }
  Geometry g{};
  const bool batched = x.dim() == 4;
  g.N = batched ? x.shape()[0] : 1;
  g.C = x.shape()[batched ? 1 : 0], g.H = x.shape()[batched ? 2 : 1], g.W = x.shape()[batched ? 3 : 2];
  g.groups = groups;
  if (w.shape()[0] != g.C || g.C % groups != 0)
    throw std::invalid_argument(fmt::format("{}: weight {} does not fit input {} with {} group(s): its dim 0 must "
                                            "be the input's {} channels, a multiple of the groups",
                                            op, str(w.shape()), str(x.shape()), groups, g.C));
  g.Cg = g.C / groups, g.Og = w.shape()[1], g.O = g.Og * groups;
  g.kh = w.shape()[2], g.kw = w.shape()[3];
  if (bias && (bias->dim() != 1 || bias->shape()[0] != g.O || bias->dtype() != x.dtype()))
    throw std::invalid_argument(fmt::format("{}: expected a bias of {} [{}], got {}", op, ir::dtypeName(x.dtype()),
                                            g.O, bias->typeString()));
  g.Ho = (g.H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (g.kh - 1) + outputPadding[0] + 1;
  g.Wo = (g.W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (g.kw - 1) + outputPadding[1] + 1;
  if (g.Ho <= 0 || g.Wo <= 0)
    throw std::invalid_argument(fmt::format("{}: input {} with weight {} gives an empty output [{}, {}]", op,
                                            str(x.shape()), str(w.shape()), g.Ho, g.Wo));
  return g;
}

/// Scratch that outlives the call (megabytes for a large image), one per
/// thread and use.
template <typename T, int kUse>
T* scratch(size_t elems) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < elems) buffer.resize(elems);
  return buffer.data();
}

/// C[n, m] = A[n, k] @ B[k, m], all row-major and dense, over the workers.
template <typename T>
void gemm(int64_t n, int64_t m, int64_t k, const T* A, const T* B, T* C) {
  if constexpr (std::is_same_v<T, float>) {
    const int64_t panels = (m + 31) / 32;
    if (panels >= int64_t{4} * numWorkers() || n < 16) {
      parallelFor(panels, 2, [&](int64_t p0, int64_t p1) {
        gemmF32(n, k, A, k, B, m, 0.0f, C, m, p0 * 32, std::min(m, p1 * 32));
      });
    } else {
      parallelFor((n + 7) / 8, 1, [&](int64_t r0, int64_t r1) {
        const int64_t i0 = r0 * 8, rows = std::min(n, r1 * 8) - i0;
        gemmF32(rows, k, A + i0 * k, k, B, m, 0.0f, C + i0 * m, m, 0, m);
      });
    }
  } else {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m, k, 1.0, A, k, B, m, 0.0, C, m);
  }
}

/// Adds cols [Og*kh*kw, H*W] into the output planes [Og, Ho, Wo] (already
/// holding the bias): tap (ki, kj) of input pixel (ih, iw) lands on
/// (ih*sh - ph + ki*dh, iw*sw - pw + kj*dw) when that is inside.
template <typename T>
void col2im(const T* cols, const Geometry& g, std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
            std::array<int64_t, 2> dilation, T* out) {
  const int64_t P = g.H * g.W;
  const int64_t sh = stride[0], sw = stride[1];
  parallelFor(g.Og, 1, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      T* plane = out + o * g.Ho * g.Wo;
      for (int64_t ki = 0; ki < g.kh; ++ki)
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const T* row = cols + ((o * g.kh + ki) * g.kw + kj) * P;
          // Input columns whose output column lies inside [0, Wo).
          const int64_t off = kj * dilation[1] - padding[1];
          const int64_t lo = std::min(g.W, off >= 0 ? 0 : (-off + sw - 1) / sw);
          const int64_t hi = std::clamp<int64_t>(g.Wo - off <= 0 ? 0 : (g.Wo - off + sw - 1) / sw, lo, g.W);
          for (int64_t ih = 0; ih < g.H; ++ih) {
            const int64_t oh = ih * sh - padding[0] + ki * dilation[0];
            if (oh < 0 || oh >= g.Ho) continue;
            const T* src = row + ih * g.W;
            T* dst = plane + oh * g.Wo + off;
            if (sw == 1)
              for (int64_t iw = lo; iw < hi; ++iw) dst[iw] += src[iw];
            else
              for (int64_t iw = lo; iw < hi; ++iw) dst[iw * sw] += src[iw];
          }
        }
    }
  });
}

}  // namespace

Tensor convTranspose2d(const Tensor& x, const Tensor& w, const Tensor* bias, std::array<int64_t, 2> stride,
                       std::array<int64_t, 2> padding, std::array<int64_t, 2> outputPadding,
                       std::array<int64_t, 2> dilation, int64_t groups) {
  const char* op = "conv_transpose2d";
  const Geometry g = checkGeometry(x, w, bias, stride, padding, outputPadding, dilation, groups);
  Tensor out = Tensor::empty(x.dtype(), x.dim() == 4 ? Shape{g.N, g.O, g.Ho, g.Wo} : Shape{g.O, g.Ho, g.Wo});
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t K = g.Og * g.kh * g.kw, P = g.H * g.W, plane = g.Ho * g.Wo;
    // w_g [Cg, K] transposed to [K, Cg], every group once.
    T* wT = scratch<T, 0>(static_cast<size_t>(g.groups * K * g.Cg));
    const T* wp = w.data<T>();
    for (int64_t gi = 0; gi < g.groups; ++gi)
      for (int64_t c = 0; c < g.Cg; ++c)
        for (int64_t k = 0; k < K; ++k) wT[(gi * K + k) * g.Cg + c] = wp[(gi * g.Cg + c) * K + k];
    T* cols = scratch<T, 1>(static_cast<size_t>(K * P));
    T* po = out.data<T>();
    for (int64_t p = 0; p < g.N * g.O; ++p)
      std::fill_n(po + p * plane, plane, bias ? bias->data<T>()[p % g.O] : T(0));
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = x.data<T>() + (n * g.C + gi * g.Cg) * P;
        gemm<T>(K, P, g.Cg, wT + gi * K * g.Cg, xg, cols);
        col2im<T>(cols, g, stride, padding, dilation, po + (n * g.O + gi * g.Og) * plane);
      }
  });
  return out;
}

}  // namespace cocktail::runtime::cpu
