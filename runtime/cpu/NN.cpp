//===- runtime/cpu/NN.cpp - Convolution, pooling, normalisation, embedding -===//
//
// conv2d lowers each (image, group) to one GEMM: the weights [O/g, C/g*kh*kw]
// times an im2col matrix [C/g*kh*kw, Ho*Wo] (skipped for 1x1 stride-1
// convolutions, whose input already has that layout). Three kernels read a
// padded copy of the image instead: two on weights packed at load (an
// artifact's convolutions larger than 1x1: Winograd F(2x2, 3x3) for a large
// enough 3x3 stride-1 one, WinogradConv.h; blocks of output channels for the
// others, PackedConv.h), and the direct kernel for a stride-1 one of at most
// 64 input channels (DirectConv.h).
// Normalisations
// compute their statistics in double. Pools follow ATen's output-size and
// divisor rules exactly, including ceil_mode's "last window must start
// inside the input" adjustment.
//
//===----------------------------------------------------------------------===//
#include <cblas.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/cpu/DirectConv.h"
#include "runtime/cpu/Gemm.h"
#include "runtime/cpu/PackedConv.h"
#include "runtime/cpu/KernelUtil.h"
#include "runtime/cpu/WorkerPool.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Vec16.h"
#include "runtime/cpu/WinogradConv.h"

namespace cocktail::runtime::cpu {

using namespace detail;

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  if (weight.dim() != 2)
    throw std::invalid_argument(fmt::format("embedding: weight must be 2-d, got {}", str(weight.shape())));
  if (indices.dtype() != DType::I64 && indices.dtype() != DType::I32)
    throw std::invalid_argument(fmt::format(
        "embedding: expected indices of type i64 or i32, got {}", indices.typeString()));
  const int64_t rows = weight.shape()[0], width = weight.shape()[1];
  Shape outShape = indices.shape();
  outShape.push_back(width);
  Tensor out = Tensor::empty(weight.dtype(), outShape);
  const int64_t rowBytes = width * ir::dtypeSize(weight.dtype());
  const auto* src = static_cast<const std::byte*>(weight.rawData());
  auto* dst = static_cast<std::byte*>(out.rawData());
  for (int64_t i = 0; i < indices.numel(); ++i) {
    const int64_t idx = indices.dtype() == DType::I64 ? indices.data<int64_t>()[i]
                                                      : int64_t{indices.data<int32_t>()[i]};
    if (idx < 0 || idx >= rows)
      throw IndexOutOfRange(fmt::format("embedding: index {} is out of range for a table of {} entries (weight {})",
                                        idx, rows, str(weight.shape())));
    std::memcpy(dst + i * rowBytes, src + idx * rowBytes, static_cast<size_t>(rowBytes));
  }
  return out;
}

namespace {

void checkSameDType(const char* op, const Tensor& a, const Tensor& b, const char* what) {
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(fmt::format("{}: expected {} to have dtype {}, got {}", op, what,
                                            ir::dtypeName(a.dtype()), b.typeString()));
}

/// Accepts NCHW, or CHW which is treated as a batch of one.
Tensor asBatched(const char* op, const Tensor& x) {
  if (x.dim() == 4) return x;
  if (x.dim() == 3) return x.reshaped({1, x.shape()[0], x.shape()[1], x.shape()[2]});
  throw std::invalid_argument(
      fmt::format("{}: expected a 3-d (unbatched) or 4-d (batched) input, got {}", op, str(x.shape())));
}

Tensor unbatchLike(const Tensor& out, const Tensor& x) {
  if (x.dim() == 4) return out;
  return out.reshaped({out.shape()[1], out.shape()[2], out.shape()[3]});
}

/// Runs `epilogue` on rows [0, n) x columns [0, width) of C (rows `stride`
/// apart, C's elements being out[C - out ...]), in tiles of at most 256.
void finishRect(const Epilogue& epilogue, float* out, float* C, int64_t n, int64_t width, int64_t stride) {
  if (n <= 0 || width <= 0) return;
  if (width > 256) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < width; j += 256)
        epilogue(out, C + i * stride + j - out, 1, std::min<int64_t>(256, width - j), stride);
    return;
  }
  const int64_t rowsPerTile = 256 / width;
  for (int64_t i = 0; i < n; i += rowsPerTile)
    epilogue(out, C + i * stride - out, std::min(rowsPerTile, n - i), width, stride);
}

/// The block of C that gemmNN finishes (its epilogue) at a time, and the
/// largest A for which it does so: both stay in a core's L2 (2 MiB here).
constexpr int64_t kEpilogueChunkBytes = 256 << 10;
constexpr int64_t kChunkedGemmMaxWeightBytes = 1 << 20;

/// C[n, m] = A[n, k] @ B[k, m] + bias[i] on row i (bias may be null). An
/// f32 `epilogue` runs on each worker's part of C as soon as its GEMM has
/// made it, while it is still in the worker's L2 (C's elements being
/// out[C - out ...]).
template <typename T>
void gemmNN(int64_t n, int64_t m, int64_t k, const T* A, const T* B, const T* bias, T* C, const Epilogue* epilogue,
            T* out) {
  if constexpr (std::is_same_v<T, float>) {
    // Split over the workers (see Gemm.h for why not OpenBLAS) in whole
    // 32-column panels of output pixels; a worker's ragged last panel costs
    // as much as a full one. With few panels per worker (a 14x14 or 7x7
    // map) the output channels split instead, so that every worker has work
    // and none pays for a ragged panel of its own.
    const int64_t panels = (m + 31) / 32;
    if (panels >= int64_t{4} * numWorkers() || n < 16) {
      // With an epilogue, a worker's columns go in chunks of C that stay in
      // L2 (kEpilogueChunkBytes) when A does too: the epilogue then reads
      // its block of C from there, not from memory after the whole GEMM (a
      // 56x56 map's 256 channels are 3 MiB). A larger A, read once per
      // chunk, would come from memory each time instead.
      const bool chunked = epilogue && n * k * int64_t{sizeof(float)} <= kChunkedGemmMaxWeightBytes;
      const int64_t chunk = chunked ? std::max<int64_t>(1, kEpilogueChunkBytes / (n * 32 * int64_t{sizeof(float)}))
                                    : panels;
      parallelFor(panels, 2, [&](int64_t p0, int64_t p1) {
        for (int64_t q = p0; q < p1; q += chunk) {
          const int64_t j0 = q * 32, j1 = std::min(m, std::min(p1, q + chunk) * 32);
          gemmF32(n, k, A, k, B, m, 0.0f, C, m, j0, j1, bias);
          if (epilogue) finishRect(*epilogue, out, C + j0, n, j1 - j0, m);
        }
      });
    } else {
      parallelFor((n + 7) / 8, 1, [&](int64_t r0, int64_t r1) {
        const int64_t i0 = r0 * 8, rows = std::min(n, r1 * 8) - i0;
        gemmF32(rows, k, A + i0 * k, k, B, m, 0.0f, C + i0 * m, m, 0, m, bias ? bias + i0 : nullptr);
        if (epilogue) finishRect(*epilogue, out, C + i0 * m, rows, m, m);
      });
    }
  } else {
    T beta = 0;
    if (bias) {
      for (int64_t i = 0; i < n; ++i) std::fill_n(C + i * m, m, bias[i]);
      beta = 1;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m, k, 1.0, A, k, B, m, beta, C, m);
  }
}

/// What a convolution's scratch holds; a call that needs several gets a
/// buffer for each.
enum class Scratch { Input, WinogradTiles, WinogradProducts };

/// Scratch for a convolution's unfolded (im2col) or padded input, or its
/// Winograd tiles, that outlives the call: megabytes, and a fresh zeroed
/// vector per call costs page faults and a memset of all of it. One buffer
/// per thread and use, grown as needed.
template <typename T, Scratch kUse = Scratch::Input>
T* convScratch(size_t elems) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < elems) buffer.resize(elems);
  return buffer.data();
}

/// Unfolds channels [c0, c1) of one image [C, H, W] into their rows of
/// cols [C*kh*kw, Ho*Wo].
template <typename T>
void im2colChannels(const T* x, int64_t c0, int64_t c1, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t sh,
                    int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t Ho, int64_t Wo, T* cols) {
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t ki = 0; ki < kh; ++ki)
      for (int64_t kj = 0; kj < kw; ++kj) {
        T* row = cols + ((c * kh + ki) * kw + kj) * Ho * Wo;
        // Output columns whose input column lies inside [0, W).
        const int64_t off = kj * dw - pw;
        int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
        int64_t hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
        lo = std::min(lo, Wo);
        hi = std::clamp(hi, lo, Wo);
        for (int64_t oh = 0; oh < Ho; ++oh) {
          T* dst = row + oh * Wo;
          const int64_t ih = oh * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) {
            std::fill(dst, dst + Wo, T(0));
            continue;
          }
          const T* src = x + (c * H + ih) * W + off;
          std::fill(dst, dst + lo, T(0));
          if (sw == 1)
            std::memcpy(dst + lo, src + lo, static_cast<size_t>(hi - lo) * sizeof(T));
          else
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw];
          std::fill(dst + hi, dst + Wo, T(0));
        }
      }
}

/// All channels, split over the workers: the unfolding moves as many bytes
/// as the product reads, and would otherwise run on one thread.
template <typename T>
void im2col(const T* x, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
            int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t Ho, int64_t Wo, T* cols) {
  // At least 64 KiB of columns per worker.
  const int64_t minChannels = std::max<int64_t>(1, (int64_t{16} << 10) / std::max<int64_t>(kh * kw * Ho * Wo, 1));
  parallelFor(C, minChannels, [&](int64_t c0, int64_t c1) {
    im2colChannels(x, c0, c1, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, cols);
  });
}

/// Whether conv2d takes the direct kernel (DirectConv.h): stride 1, no
/// dilation or groups, and few input channels, whose taps' weights (at most
/// 64 x kh x kw per output channel) stay in L2 across the output rows; rows
/// of at least 16 pixels, since a shorter row leaves vector lanes idle.
bool takesDirectConv(int64_t C, int64_t kh, int64_t kw, int64_t Wo, std::array<int64_t, 2> stride,
                     std::array<int64_t, 2> dilation, int64_t groups) {
  return groups == 1 && stride[0] == 1 && stride[1] == 1 && dilation[0] == 1 && dilation[1] == 1 && C <= 64 &&
         kh * kw > 1 && Wo >= 16;
}

/// One image [C, H, W] into the zero-padded scratch [C, Hp, Wp], its pixel
/// (0, 0) at (top, left) (plus 32 zeros past its end, which the kernels may
/// read), over the workers.
const float* padImage(const float* x, int64_t C, int64_t H, int64_t W, int64_t top, int64_t left, int64_t Hp,
                      int64_t Wp) {
  float* xp = convScratch<float>(static_cast<size_t>(C * Hp * Wp + 32));
  std::fill_n(xp + C * Hp * Wp, 32, 0.0f);
  const int64_t minChannels = std::max<int64_t>(1, (int64_t{16} << 10) / std::max<int64_t>(Hp * Wp, 1));
  parallelFor(C, minChannels, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* dst = xp + c * Hp * Wp;
      std::fill_n(dst, top * Wp, 0.0f);
      for (int64_t h = 0; h < H; ++h) {
        float* row = dst + (top + h) * Wp;
        std::fill_n(row, left, 0.0f);
        std::copy_n(x + (c * H + h) * W, W, row + left);
        std::fill_n(row + left + W, Wp - left - W, 0.0f);
      }
      std::fill_n(dst + (top + H) * Wp, (Hp - top - H) * Wp, 0.0f);
    }
  });
  return xp;
}

/// padImage with the same padding on both sides.
const float* padImage(const float* x, int64_t C, int64_t H, int64_t W, int64_t ph, int64_t pw) {
  return padImage(x, C, H, W, ph, pw, H + 2 * ph, W + 2 * pw);
}

/// The direct convolution of one image, output rows split over the workers,
/// each running `epilogue` on its rows as soon as they are done.
void convDirect(const float* img, int64_t C, int64_t H, int64_t W, const float* w, int64_t O, int64_t kh, int64_t kw,
                std::array<int64_t, 2> padding, const float* bias, float* dst, int64_t Ho, int64_t Wo,
                const Epilogue* epilogue, float* out) {
  const int64_t Hp = H + 2 * padding[0], Wp = W + 2 * padding[1];
  const float* xp = padImage(img, C, H, W, padding[0], padding[1]);
  thread_local std::vector<int64_t> offsets;
  offsets.clear();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t ki = 0; ki < kh; ++ki)
      for (int64_t kj = 0; kj < kw; ++kj) offsets.push_back(c * Hp * Wp + ki * Wp + kj);
  const int64_t* taps = offsets.data();  // the caller's, for every worker
  const int64_t P = Ho * Wo;
  parallelFor(Ho, 2, [&](int64_t oh0, int64_t oh1) {
    convDirectF32(xp, Wp, taps, C * kh * kw, w, bias, dst, O, Ho, Wo, oh0, oh1);
    if (epilogue) finishRect(*epilogue, out, dst + oh0 * Wo, O, (oh1 - oh0) * Wo, P);
  });
}

/// One image on packed weights (PackedConv.h): blocks of 32 output channels
/// times output rows, split over the workers, each block's weights staying
/// in the worker's L2 across its rows; the epilogue runs on each row as it
/// is done.
void convPacked(const float* img, int64_t C, int64_t H, int64_t W, const PackedConvWeights& w,
                std::array<int64_t, 2> stride, std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation,
                const float* bias, float* dst, int64_t Ho, int64_t Wo, const Epilogue* epilogue, float* out) {
  const bool padded = padding[0] > 0 || padding[1] > 0;
  const float* xp = padded ? padImage(img, C, H, W, padding[0], padding[1]) : img;
  const ConvGeometry g{.C = C, .Hp = H + 2 * padding[0], .Wp = W + 2 * padding[1],
                       .O = w.shape()[0], .Ho = Ho, .Wo = Wo,
                       .kh = w.shape()[2], .kw = w.shape()[3],
                       .sh = stride[0], .sw = stride[1], .dh = dilation[0], .dw = dilation[1]};
  const int64_t blocks = w.numBlocks(), P = Ho * Wo;
  parallelFor(blocks * Ho, 1, [&](int64_t u0, int64_t u1) {
    alignas(64) float blockBias[PackedConvWeights::kChannels];
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t b = u / Ho, oh = u % Ho, o0 = b * PackedConvWeights::kChannels;
      const int64_t channels = std::min(PackedConvWeights::kChannels, g.O - o0);
      if (u == u0 || oh == 0) {
        std::fill_n(blockBias, PackedConvWeights::kChannels, 0.0f);
        if (bias) std::copy_n(bias + o0, channels, blockBias);
      }
      packedConvRowF32(g, xp, w, b, blockBias, dst, oh);
      if (epilogue) finishRect(*epilogue, out, dst + o0 * P + oh * Wo, channels, Wo, P);
    }
  });
}

/// Tiles of a Winograd chunk: at least this many (whole rows of tiles), so
/// that its products are GEMMs of a few panels.
constexpr int64_t kWinogradChunkTiles = 128;

/// One image as Winograd F(2x2, 3x3) (WinogradConv.h), in chunks of tile
/// rows (kWinogradChunkTiles, or all) whose transformed tiles and products
/// stay in L2: for each, the patches transformed over channels, the 16
/// products, then the outputs over output channels, with the epilogue. A map
/// of enough chunks splits them over the workers; a smaller one splits each
/// step.
void convWinograd(const float* img, int64_t C, int64_t H, int64_t W, const PackedConvWeights& w,
                  std::array<int64_t, 2> padding, const float* bias, float* dst, int64_t Ho, int64_t Wo,
                  const Epilogue* epilogue, float* out) {
  const WinogradTiling tiling{.Ho = Ho, .Wo = Wo};
  const int64_t O = w.shape()[0], P = Ho * Wo, tw = tiling.tilesW();
  const int64_t rowsPerChunk = std::clamp<int64_t>((kWinogradChunkTiles + tw - 1) / tw, 1, tiling.tilesH());
  const int64_t chunks = (tiling.tilesH() + rowsPerChunk - 1) / rowsPerChunk;
  const float* xp = padImage(img, C, H, W, padding[0], padding[1], tiling.paddedH(), tiling.paddedW());
  auto runChunk = [&](int64_t chunk) {
    const int64_t i0 = chunk * rowsPerChunk, i1 = std::min(tiling.tilesH(), i0 + rowsPerChunk), T = (i1 - i0) * tw;
    float* v = convScratch<float, Scratch::WinogradTiles>(static_cast<size_t>(kWinogradPositions * C * T));
    // The output transform reads up to 15 floats past the products.
    float* m = convScratch<float, Scratch::WinogradProducts>(static_cast<size_t>(kWinogradPositions * T * O + 16));
    parallelFor(C, 1, [&](int64_t c0, int64_t c1) { winogradInputTiles(tiling, xp, C, c0, c1, i0, i1, v); });
    // m[xi] [T, O] = V[xi]^T U[xi]^T, V[xi] [C, T] read as transposed.
    parallelFor(kWinogradPositions, 1, [&](int64_t x0, int64_t x1) {
      for (int64_t xi = x0; xi < x1; ++xi) {
        const PackedPanels& u = w.winogradFilters(xi);
        gemmF32PackedTransposedA(T, v + xi * C * T, T, u, m + xi * T * O, O, 0, u.numPanels());
      }
    });
    const int64_t row0 = 2 * i0, rows = std::min(Ho, 2 * i1) - row0;
    parallelFor(O, 1, [&](int64_t o0, int64_t o1) {
      winogradOutputTiles(tiling, m, O, o0, o1, i0, i1, bias, dst);
      if (epilogue) finishRect(*epilogue, out, dst + o0 * P + row0 * Wo, o1 - o0, rows * Wo, P);
    });
  };
  // Inside a worker, parallelFor runs inline: each chunk on one worker.
  if (chunks >= int64_t{2} * numWorkers())
    parallelFor(chunks, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) runChunk(k);
    });
  else
    for (int64_t k = 0; k < chunks; ++k) runChunk(k);
}

/// Runs f(n) for each image of a batch of N. A batch of at least one image
/// per worker (a multiple of their number, or four per worker) splits over
/// the workers image by image, each image's kernels running on its worker
/// (parallelFor runs inline there): a small map split over the workers
/// leaves them waiting on each other per image. Otherwise image after
/// image, each split over the workers.
template <typename F>
void forEachImage(int64_t N, F&& f) {
  const int64_t workers = numWorkers();
  if (workers > 1 && N >= workers && (N % workers == 0 || N >= 4 * workers)) {
    parallelFor(N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) f(n);
    });
    return;
  }
  for (int64_t n = 0; n < N; ++n) f(n);
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& w, const Tensor* bias, std::array<int64_t, 2> stride,
              std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation, int64_t groups,
              const Epilogue* epilogue, const PackedConvWeights* packed) {
  const char* op = "conv2d";
  if (epilogue && input.dtype() != DType::F32)
    throw std::invalid_argument(fmt::format("conv2d: a fused epilogue needs f32, got {}", input.typeString()));
  const Tensor x = asBatched(op, input);
  if (w.dim() != 4)
    throw std::invalid_argument(fmt::format("conv2d: expected a 4-d weight, got {}", str(w.shape())));
  checkSameDType(op, x, w, "the weight");
  if (groups <= 0) throw std::invalid_argument(fmt::format("conv2d: groups must be positive, got {}", groups));
  for (int i = 0; i < 2; ++i)
    if (stride[i] <= 0 || dilation[i] <= 0 || padding[i] < 0)
      throw std::invalid_argument(fmt::format(
          "conv2d: stride and dilation must be positive and padding non-negative (stride [{}, {}], "
          "padding [{}, {}], dilation [{}, {}])",
          stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]));
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t O = w.shape()[0], Cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  if (Cg * groups != C || O % groups != 0)
    throw std::invalid_argument(fmt::format(
        "conv2d: given groups={}, weight of size {}, expected input {} to have {} channels, but "
        "got {} channels instead",
        groups, str(w.shape()), str(x.shape()), Cg * groups, C));
  const int64_t Ho = (H + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0] + 1;
  const int64_t Wo = (W + 2 * padding[1] - dilation[1] * (kw - 1) - 1) / stride[1] + 1;
  if (H + 2 * padding[0] < dilation[0] * (kh - 1) + 1 || W + 2 * padding[1] < dilation[1] * (kw - 1) + 1)
    throw std::invalid_argument(fmt::format(
        "conv2d: calculated padded input size per channel ({} x {}) is smaller than the kernel "
        "size ({} x {}) (input {}, weight {})",
        H + 2 * padding[0], W + 2 * padding[1], dilation[0] * (kh - 1) + 1,
        dilation[1] * (kw - 1) + 1, str(x.shape()), str(w.shape())));
  if (bias && bias->defined()) {
    checkSameDType(op, x, *bias, "the bias");
    if (bias->dim() != 1 || bias->shape()[0] != O)
      throw std::invalid_argument(fmt::format("conv2d: expected a bias of shape [{}], got {}", O,
                                              str(bias->shape())));
  }
  Tensor out = Tensor::empty(x.dtype(), {N, O, Ho, Wo});
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (out.numel() == 0) return;
    const int64_t Og = O / groups, K = Cg * kh * kw, P = Ho * Wo;
    const bool direct = kh == 1 && kw == 1 && stride[0] == 1 && stride[1] == 1 &&
                        padding[0] == 0 && padding[1] == 0;
    if constexpr (std::is_same_v<T, float>) {
      if (packed && packed->shape() != w.shape())
        throw std::invalid_argument(fmt::format("conv2d: packed weights of shape {} for a weight of shape {}",
                                                str(packed->shape()), str(w.shape())));
      // Image n's input and output for the kernels below, which run one image at a time.
      const float* fb = bias && bias->defined() ? bias->data<float>() : nullptr;
      float* fo = out.data<float>();
      auto in = [&](int64_t n) { return x.data<float>() + n * C * H * W; };
      auto dst = [&](int64_t n) { return fo + n * O * Ho * Wo; };
      if (packed && packed->layout() == PackedConvWeights::Layout::Winograd &&
          winogradApplies(w.shape(), stride, dilation, groups)) {
        forEachImage(N, [&](int64_t n) {
          convWinograd(in(n), C, H, W, *packed, padding, fb, dst(n), Ho, Wo, epilogue, fo);
        });
        return;
      }
      if (packed && packed->layout() == PackedConvWeights::Layout::ChannelBlocks &&
          packedConvPays(w.shape(), stride, groups)) {
        forEachImage(N, [&](int64_t n) {
          convPacked(in(n), C, H, W, *packed, stride, padding, dilation, fb, dst(n), Ho, Wo, epilogue, fo);
        });
        return;
      }
      if (takesDirectConv(C, kh, kw, Wo, stride, dilation, groups)) {
        forEachImage(N, [&](int64_t n) {
          convDirect(in(n), C, H, W, w.data<float>(), O, kh, kw, padding, fb, dst(n), Ho, Wo, epilogue, fo);
        });
        return;
      }
    }
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    const T* pb = bias && bias->defined() ? bias->data<T>() : nullptr;
    T* po = out.data<T>();
    auto image = [&](int64_t n) {
      // The calling thread's scratch: a worker's own when the batch is split.
      T* cols = direct ? nullptr : convScratch<T>(static_cast<size_t>(K * P));
      for (int64_t g = 0; g < groups; ++g) {
        const T* img = px + (n * C + g * Cg) * H * W;
        const T* colPtr = img;
        if (!direct) {
          im2col(img, Cg, H, W, kh, kw, stride[0], stride[1], padding[0], padding[1], dilation[0],
                 dilation[1], Ho, Wo, cols);
          colPtr = cols;
        }
        T* dst = po + (n * O + g * Og) * P;
        const T* groupBias = pb ? pb + g * Og : nullptr;
        if (K == 0) {
          for (int64_t o = 0; o < Og; ++o) std::fill_n(dst + o * P, P, groupBias ? groupBias[o] : T(0));
          if constexpr (std::is_same_v<T, float>)
            if (epilogue) finishRect(*epilogue, po, dst, Og, P, P);
          continue;
        }
        gemmNN<T>(Og, P, K, pw + g * Og * K, colPtr, groupBias, dst, epilogue, po);
      }
    };
    // f64 multiplies with OpenBLAS, whose own threads would not share.
    if constexpr (std::is_same_v<T, float>)
      forEachImage(N, image);
    else
      for (int64_t n = 0; n < N; ++n) image(n);
  });
  return unbatchLike(out, input);
}

Tensor batchNorm(const Tensor& x, const Tensor& runningMean, const Tensor& runningVar,
                 const Tensor* weight, const Tensor* bias, double eps) {
  const char* op = "batch_norm";
  if (x.dim() < 2)
    throw std::invalid_argument(fmt::format("batch_norm: expected at least 2-d input, got {}", str(x.shape())));
  const int64_t C = x.shape()[1];
  auto checkParam = [&](const Tensor& p, const char* what) {
    if (p.numel() != C)
      throw std::invalid_argument(fmt::format("batch_norm: expected {} to have {} elements, got {} (input {})",
                                              what, C, str(p.shape()), str(x.shape())));
    return toDType(p, DType::F64);
  };
  const Tensor mean = checkParam(runningMean, "running_mean");
  const Tensor var = checkParam(runningVar, "running_var");
  const Tensor wt = weight && weight->defined() ? checkParam(*weight, "weight") : Tensor();
  const Tensor bs = bias && bias->defined() ? checkParam(*bias, "bias") : Tensor();
  std::vector<double> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double invStd = 1.0 / std::sqrt(var.data<double>()[c] + eps);
    scale[c] = invStd * (wt.defined() ? wt.data<double>()[c] : 1.0);
    shift[c] = (bs.defined() ? bs.data<double>()[c] : 0.0) - mean.data<double>()[c] * scale[c];
  }
  const int64_t N = x.shape()[0], inner = C == 0 || N == 0 ? 0 : x.numel() / (N * C);
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const T a = static_cast<T>(scale[c]), b = static_cast<T>(shift[c]);
        const T* s = px + (n * C + c) * inner;
        T* d = po + (n * C + c) * inner;
        for (int64_t i = 0; i < inner; ++i) d[i] = s[i] * a + b;
      }
  });
  return out;
}

Tensor layerNorm(const Tensor& x, const std::vector<int64_t>& normalizedShape, const Tensor* weight,
                 const Tensor* bias, double eps) {
  const char* op = "layer_norm";
  const int64_t k = static_cast<int64_t>(normalizedShape.size());
  bool ok = k >= 1 && k <= x.dim();
  for (int64_t i = 0; ok && i < k; ++i) ok = x.shape()[x.dim() - k + i] == normalizedShape[i];
  if (!ok)
    throw std::invalid_argument(fmt::format(
        "layer_norm: given normalized_shape={}, expected input with shape [*, {}], but got input "
        "of size {}",
        str(normalizedShape), fmt::join(normalizedShape, ", "), str(x.shape())));
  for (const Tensor* p : {weight, bias})
    if (p && p->defined() && p->shape() != Shape(normalizedShape))
      throw std::invalid_argument(fmt::format("layer_norm: expected weight and bias of shape {}, got {}",
                                              str(normalizedShape), str(p->shape())));
  const int64_t M = numElements(normalizedShape);
  const int64_t rows = M == 0 ? 0 : x.numel() / M;
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const Tensor wt = weight && weight->defined() ? toDType(*weight, x.dtype()) : Tensor();
    const Tensor bs = bias && bias->defined() ? toDType(*bias, x.dtype()) : Tensor();
    const T* pw = wt.defined() ? wt.data<T>() : nullptr;
    const T* pb = bs.defined() ? bs.data<T>() : nullptr;
    for (int64_t r = 0; r < rows; ++r) {
      const T* s = x.data<T>() + r * M;
      T* d = out.data<T>() + r * M;
      double mean = 0;
      for (int64_t i = 0; i < M; ++i) mean += s[i];
      mean /= static_cast<double>(M);
      double var = 0;
      for (int64_t i = 0; i < M; ++i) var += (s[i] - mean) * (s[i] - mean);
      var /= static_cast<double>(M);
      const double rstd = 1.0 / std::sqrt(var + eps);
      for (int64_t i = 0; i < M; ++i) {
        double v = (s[i] - mean) * rstd;
        if (pw) v *= pw[i];
        if (pb) v += pb[i];
        d[i] = static_cast<T>(v);
      }
    }
  });
  return out;
}

// ---- pooling ------------------------------------------------------------------------

namespace {

/// ATen's pooling_output_shape, with the ceil-mode rule that the last window
/// must start inside the input or the left padding.
int64_t poolOutputSize(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dilation, bool ceil) {
  const int64_t num = in + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0);
  const int64_t q = num >= 0 ? num / stride : -((-num + stride - 1) / stride);  // floor division
  int64_t out = q + 1;
  if (ceil && (out - 1) * stride >= in + pad) --out;
  return out;
}

struct PoolGeometry {
  int64_t N, C, H, W, Ho, Wo;
};

PoolGeometry checkPool(const char* op, const Tensor& x, std::array<int64_t, 2> kernel,
                       std::array<int64_t, 2>& stride, std::array<int64_t, 2> padding,
                       std::array<int64_t, 2> dilation, bool ceil) {
  for (int i = 0; i < 2; ++i) {
    if (stride[i] == 0) stride[i] = kernel[i];  // PyTorch's "stride defaults to kernel"
    if (kernel[i] <= 0 || stride[i] <= 0 || dilation[i] <= 0 || padding[i] < 0)
      throw std::invalid_argument(fmt::format(
          "{}: kernel, stride and dilation must be positive and padding non-negative (kernel [{}, "
          "{}], stride [{}, {}], padding [{}, {}])",
          op, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]));
    if (padding[i] > kernel[i] / 2)
      throw std::invalid_argument(fmt::format(
          "{}: pad should be at most half of kernel size, but got pad={} and kernel_size={}", op,
          padding[i], kernel[i]));
  }
  const Tensor b = asBatched(op, x);
  PoolGeometry g{b.shape()[0], b.shape()[1], b.shape()[2], b.shape()[3], 0, 0};
  g.Ho = poolOutputSize(g.H, kernel[0], padding[0], stride[0], dilation[0], ceil);
  g.Wo = poolOutputSize(g.W, kernel[1], padding[1], stride[1], dilation[1], ceil);
  if (g.Ho <= 0 || g.Wo <= 0)
    throw std::invalid_argument(fmt::format("{}: output size is too small ({}x{}) for input {}", op,
                                            g.Ho, g.Wo, str(x.shape())));
  return g;
}

Shape poolShape(const Tensor& x, const PoolGeometry& g) {
  if (x.dim() == 3) return {g.C, g.Ho, g.Wo};
  return {g.N, g.C, g.Ho, g.Wo};
}

}  // namespace

namespace {

/// acc[i] = max(acc[i], row[i]) over n floats, NaN winning, 8 lanes at a
/// time: GCC 12 turns 16-lane compares into scalar code under AVX-512, but
/// keeps 8-lane ones in vector registers.
COCKTAIL_MULTIVERSION
void maxIntoF32(float* acc, const float* row, int64_t n) {
  using V8 = float __attribute__((vector_size(32), aligned(4), may_alias));
  using Mask = int32_t __attribute__((vector_size(32)));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const V8 m = *reinterpret_cast<const V8*>(acc + i), v = *reinterpret_cast<const V8*>(row + i);
    const Mask take = (v > m) | (v != v);
    *reinterpret_cast<V8*>(acc + i) =
        reinterpret_cast<V8>((reinterpret_cast<Mask>(v) & take) | (reinterpret_cast<Mask>(m) & ~take));
  }
  for (; i < n; ++i) acc[i] = (row[i] > acc[i] || row[i] != row[i]) ? row[i] : acc[i];
}

}  // namespace

Tensor maxPool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                 std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation, bool ceilMode) {
  const char* op = "max_pool2d";
  const PoolGeometry g = checkPool(op, x, kernel, stride, padding, dilation, ceilMode);
  Tensor out = Tensor::empty(x.dtype(), poolShape(x, g));
  // Each output column's window, clipped to the image once per call: the
  // divisions this takes cost more than the whole max when done per output.
  struct Window {
    int64_t w0, j0, j1;
  };
  thread_local std::vector<Window> windowScratch;
  windowScratch.resize(static_cast<size_t>(g.Wo));
  const Window* windows = windowScratch.data();
  for (int64_t ow = 0; ow < g.Wo; ++ow) {
    const int64_t w0 = ow * stride[1] - padding[1];
    windowScratch[ow] = {w0, w0 >= 0 ? 0 : (-w0 + dilation[1] - 1) / dilation[1],
                         std::min<int64_t>(kernel[1], (g.W - w0 + dilation[1] - 1) / dilation[1])};
  }
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // NaN wins, as in PyTorch.
    const auto maxOf = [](T m, T v) { return (v > m || v != v) ? v : m; };
    // Planes split over the workers. Per output row, the max over the
    // window's rows first (a vector pass along whole input rows), then each
    // output's max over its columns of that row.
    parallelFor(g.N * g.C, 4, [&](int64_t p0, int64_t p1) {
      thread_local std::vector<T> rowMaxScratch;
      rowMaxScratch.resize(static_cast<size_t>(g.W));
      T* rowMax = rowMaxScratch.data();
      for (int64_t p = p0; p < p1; ++p) {
        const T* src = x.data<T>() + p * g.H * g.W;
        T* dst = out.data<T>() + p * g.Ho * g.Wo;
        for (int64_t oh = 0; oh < g.Ho; ++oh) {
          const int64_t h0 = oh * stride[0] - padding[0];
          const int64_t i0 = h0 >= 0 ? 0 : (-h0 + dilation[0] - 1) / dilation[0];
          const int64_t i1 = std::min<int64_t>(kernel[0], (g.H - h0 + dilation[0] - 1) / dilation[0]);
          std::fill(rowMax, rowMax + g.W, -std::numeric_limits<T>::infinity());
          for (int64_t i = i0; i < i1; ++i) {
            const T* row = src + (h0 + i * dilation[0]) * g.W;
            if constexpr (std::is_same_v<T, float>)
              maxIntoF32(rowMax, row, g.W);
            else
              for (int64_t w = 0; w < g.W; ++w) rowMax[w] = maxOf(rowMax[w], row[w]);
          }
          for (int64_t ow = 0; ow < g.Wo; ++ow) {
            const Window& win = windows[ow];
            // Branch-free (random data mispredicts a branch per element):
            // `m > v ? m : v` is one maxss, and a NaN is remembered apart.
            T m = -std::numeric_limits<T>::infinity();
            bool nan = false;
            for (int64_t j = win.j0; j < win.j1; ++j) {
              const T v = rowMax[win.w0 + j * dilation[1]];
              nan |= v != v;
              m = m > v ? m : v;
            }
            dst[oh * g.Wo + ow] = nan ? std::numeric_limits<T>::quiet_NaN() : m;
          }
        }
      }
    });
  });
  return out;
}

Tensor avgPool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                 std::array<int64_t, 2> padding, bool ceilMode, bool countIncludePad,
                 std::optional<int64_t> divisorOverride) {
  const char* op = "avg_pool2d";
  if (divisorOverride && *divisorOverride == 0)
    throw std::invalid_argument("avg_pool2d: divisor must be not zero");
  const PoolGeometry g = checkPool(op, x, kernel, stride, padding, {1, 1}, ceilMode);
  Tensor out = Tensor::empty(x.dtype(), poolShape(x, g));
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t p = 0; p < g.N * g.C; ++p) {
      const T* src = x.data<T>() + p * g.H * g.W;
      T* dst = out.data<T>() + p * g.Ho * g.Wo;
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          int64_t h0 = oh * stride[0] - padding[0], w0 = ow * stride[1] - padding[1];
          int64_t h1 = std::min(h0 + kernel[0], g.H + padding[0]);
          int64_t w1 = std::min(w0 + kernel[1], g.W + padding[1]);
          const int64_t padded = (h1 - h0) * (w1 - w0);
          h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
          h1 = std::min(h1, g.H), w1 = std::min(w1, g.W);
          double s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += src[ih * g.W + iw];
          const int64_t divisor = divisorOverride ? *divisorOverride
                                  : countIncludePad ? padded
                                                    : (h1 - h0) * (w1 - w0);
          dst[oh * g.Wo + ow] = static_cast<T>(s / static_cast<double>(divisor));
        }
    }
  });
  return out;
}

Tensor adaptiveAvgPool2d(const Tensor& x, std::array<int64_t, 2> outputSize) {
  const char* op = "adaptive_avg_pool2d";
  const Tensor b = asBatched(op, x);
  const int64_t N = b.shape()[0], C = b.shape()[1], H = b.shape()[2], W = b.shape()[3];
  const int64_t Ho = outputSize[0], Wo = outputSize[1];
  if (Ho < 0 || Wo < 0)
    throw std::invalid_argument(fmt::format("adaptive_avg_pool2d: invalid output size [{}, {}]", Ho, Wo));
  if ((H == 0 || W == 0) && Ho * Wo > 0)
    throw std::invalid_argument(fmt::format(
        "adaptive_avg_pool2d: expected input with non-zero spatial size, got {}", str(x.shape())));
  Tensor out = Tensor::empty(x.dtype(), x.dim() == 3 ? Shape{C, Ho, Wo} : Shape{N, C, Ho, Wo});
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t p = 0; p < N * C; ++p) {
      const T* src = b.data<T>() + p * H * W;
      T* dst = out.data<T>() + p * Ho * Wo;
      for (int64_t oh = 0; oh < Ho; ++oh) {
        const int64_t h0 = oh * H / Ho, h1 = ((oh + 1) * H + Ho - 1) / Ho;
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t w0 = ow * W / Wo, w1 = ((ow + 1) * W + Wo - 1) / Wo;
          double s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += src[ih * W + iw];
          dst[oh * Wo + ow] = static_cast<T>(s / static_cast<double>((h1 - h0) * (w1 - w0)));
        }
      }
    }
  });
  return out;
}

std::pair<Tensor, Tensor> adaptiveMaxPool2d(const Tensor& x, std::array<int64_t, 2> outputSize) {
  const char* op = "adaptive_max_pool2d";
  const Tensor b = asBatched(op, x);
  const int64_t N = b.shape()[0], C = b.shape()[1], H = b.shape()[2], W = b.shape()[3];
  const int64_t Ho = outputSize[0], Wo = outputSize[1];
  if (Ho < 0 || Wo < 0)
    throw std::invalid_argument(fmt::format("adaptive_max_pool2d: invalid output size [{}, {}]", Ho, Wo));
  if (C == 0 || H == 0 || W == 0)
    throw std::invalid_argument(fmt::format(
        "adaptive_max_pool2d: expected input with non-zero size for non-batch dimensions, got {}", str(x.shape())));
  const Shape shape = x.dim() == 3 ? Shape{C, Ho, Wo} : Shape{N, C, Ho, Wo};
  Tensor out = Tensor::empty(x.dtype(), shape), indices = Tensor::empty(DType::I64, shape);
  dispatchFloat(op, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallelFor(N * C, 4, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* src = b.data<T>() + p * H * W;
        T* dst = out.data<T>() + p * Ho * Wo;
        int64_t* at = indices.data<int64_t>() + p * Ho * Wo;
        for (int64_t oh = 0; oh < Ho; ++oh) {
          const int64_t h0 = oh * H / Ho, h1 = ((oh + 1) * H + Ho - 1) / Ho;
          for (int64_t ow = 0; ow < Wo; ++ow) {
            const int64_t w0 = ow * W / Wo, w1 = ((ow + 1) * W + Wo - 1) / Wo;
            // ATen's order: the first maximum, or the last NaN.
            T m = -std::numeric_limits<T>::infinity();
            int64_t mi = h0 * W + w0;
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw) {
                const T v = src[ih * W + iw];
                if (v > m || v != v) m = v, mi = ih * W + iw;
              }
            dst[oh * Wo + ow] = m;
            at[oh * Wo + ow] = mi;
          }
        }
      }
    });
  });
  return {std::move(out), std::move(indices)};
}

}  // namespace cocktail::runtime::cpu
