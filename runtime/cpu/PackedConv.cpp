//===- runtime/cpu/PackedConv.cpp -------------------------------------------------===//
#include "runtime/cpu/PackedConv.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "runtime/cpu/Vec16.h"
#include "runtime/cpu/WinogradConv.h"

namespace cocktail::runtime::cpu {

PackedConvWeights::PackedConvWeights(const Tensor& w, Layout layout) : shape_(w.shape()), layout_(layout) {
  if (w.dim() != 4 || w.dtype() != DType::F32)
    throw std::invalid_argument(
        fmt::format("conv2d: packed weights must be 4-d f32, got {}{}", w.typeString(), shapeToString(w.shape())));
  const int64_t O = shape_[0];
  taps_ = shape_[1] * shape_[2] * shape_[3];
  if (layout == Layout::Winograd) {
    if (shape_[2] != 3 || shape_[3] != 3)
      throw std::invalid_argument(
          fmt::format("conv2d: Winograd weights must be 3x3, got {}", shapeToString(w.shape())));
    const int64_t C = shape_[1];
    std::vector<float> u(static_cast<size_t>(kWinogradPositions * O * C));
    cpu::winogradFilters(w.data<float>(), O, C, u.data());
    // U[xi] is [O, C], the transposed layout of U[xi]^T [C, O]: packed from
    // its rows, the panels hold U[xi]^T, 32 output channels each.
    winograd_.reserve(kWinogradPositions);
    for (int64_t xi = 0; xi < kWinogradPositions; ++xi)
      winograd_.emplace_back(u.data() + xi * O * C, C, O, C, BLayout::Transposed);
    return;
  }
  data_.assign(static_cast<size_t>(numBlocks() * taps_ * kChannels), 0.0f);
  const float* src = w.data<float>();
  for (int64_t o = 0; o < O; ++o) {
    float* dst = data_.data() + (o / kChannels) * taps_ * kChannels + o % kChannels;
    for (int64_t t = 0; t < taps_; ++t) dst[t * kChannels] = src[o * taps_ + t];
  }
}

bool packedConvPays(const Shape& weight, std::array<int64_t, 2> stride, int64_t groups) {
  if (weight.size() != 4 || groups != 1 || weight[2] * weight[3] <= 1 || (stride[1] != 1 && stride[1] != 2))
    return false;
  const int64_t O = weight[0], blocks = (O + PackedConvWeights::kChannels - 1) / PackedConvWeights::kChannels;
  return 4 * O >= 3 * blocks * PackedConvWeights::kChannels;
}

namespace {

using namespace vec;

/// R pixels x 32 channels, into tile[r * 32 + o]. `x` is output pixel 0's
/// input at tap (0, 0, 0); pixel r's is S * r floats on.
template <int R, int S>
[[gnu::always_inline]] inline void pixelBlock(const ConvGeometry& g, const float* x, const float* w,
                                              const float* bias, float* tile) {
  V16 acc[R][2];
  const V16 b0 = load(bias), b1 = load(bias + 16);
  for (int r = 0; r < R; ++r) {
    acc[r][0] = b0;
    acc[r][1] = b1;
  }
  const int64_t plane = g.Hp * g.Wp, rowStep = g.dh * g.Wp;
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const float* row = x + c * plane + ki * rowStep;
      for (int64_t kj = 0; kj < g.kw; ++kj, w += 32) {
        const float* px = row + kj * g.dw;
        const V16 w0 = load(w), w1 = load(w + 16);
        for (int r = 0; r < R; ++r) {
          const float a = px[static_cast<int64_t>(r) * S];  // scalar times vector: a broadcast load
          acc[r][0] += a * w0;
          acc[r][1] += a * w1;
        }
      }
    }
  for (int64_t r = 0; r < R; ++r) {
    store(tile + r * 32, acc[r][0]);
    store(tile + r * 32 + 16, acc[r][1]);
  }
}

/// pixelBlock<R, S> for the runtime R in [1, sizeof...(Rs)].
template <int S, int... Rs>
[[gnu::always_inline]] inline void pixelBlockOf(int R, std::integer_sequence<int, Rs...>, const ConvGeometry& g,
                                                const float* x, const float* w, const float* bias, float* tile) {
  (void)((R == Rs + 1 ? (pixelBlock<Rs + 1, S>(g, x, w, bias, tile), true) : false) || ...);
}

/// The most pixels a block holds: 28 accumulators and 2 rows of weights in
/// AVX-512's 32 registers; AVX2's 16 (of 8 floats) fit 3 x 2 x 2 + 4.
constexpr int kWidePixels = 14;
constexpr int kNarrowPixels = 3;

}  // namespace

COCKTAIL_MULTIVERSION
void packedConvRowF32(const ConvGeometry& g, const float* xp, const PackedConvWeights& w, int64_t b,
                      const float* bias, float* out, int64_t oh) {
  static const bool wide = __builtin_cpu_supports("avx512f");
  const int maxPixels = wide ? kWidePixels : kNarrowPixels;
  const float* weights = w.block(b);
  const int64_t o0 = b * PackedConvWeights::kChannels;
  const int64_t channels = std::min(PackedConvWeights::kChannels, g.O - o0);
  const int64_t plane = g.Ho * g.Wo;
  // The row in near-equal runs (16 = 8 + 8, not 14 + 2).
  const int64_t runs = (g.Wo + maxPixels - 1) / maxPixels;
  alignas(64) float tile[kWidePixels * 32];
  const float* in = xp + oh * g.sh * g.Wp;
  float* dst = out + o0 * plane + oh * g.Wo;
  for (int64_t k = 0, ow = 0; k < runs; ++k) {
    const int R = static_cast<int>(g.Wo / runs + (k < g.Wo % runs ? 1 : 0));
    const float* x = in + ow * g.sw;
    if (g.sw == 1)
      pixelBlockOf<1>(R, std::make_integer_sequence<int, kWidePixels>{}, g, x, weights, bias, tile);
    else
      pixelBlockOf<2>(R, std::make_integer_sequence<int, kWidePixels>{}, g, x, weights, bias, tile);
    // The tile is pixel-major; the output channel-major.
    for (int64_t o = 0; o < channels; ++o)
      for (int64_t r = 0; r < R; ++r) dst[o * plane + ow + r] = tile[r * 32 + o];
    ow += R;
  }
}

}  // namespace cocktail::runtime::cpu
