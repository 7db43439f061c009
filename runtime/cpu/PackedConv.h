//===- runtime/cpu/PackedConv.h - Convolution on weights packed at load -------------===//
//
// A convolution whose weights are constant (an artifact's) packs them once,
// 32 output channels at a time, each tap (c, ki, kj) of the reduction a row
// of 32 weights. The kernel keeps R output pixels of one row times 32
// channels in vector registers (R = 14 under AVX-512: 28 accumulators) and
// for each tap loads one row of weights and broadcasts R input pixels
// straight from the zero-padded image. Nothing is unfolded (im2col writes
// kh * kw times the input) or packed per call, and a stride or a dilation
// only changes which pixels are broadcast. Vectors over output channels
// also fill their lanes on maps whose rows are short (ResNet's 14 and 7
// pixels), where vectors over pixels leave lanes idle.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ir/CacheAligned.h"
#include "runtime/Tensor.h"
#include "runtime/cpu/Gemm.h"

namespace cocktail::runtime::cpu {

/// f32 weights [O, C, kh, kw] in the layout of the kernel that runs them:
///  - ChannelBlocks (this file's kernel): blocks of 32 output channels; row
///    t of block b (t = (c * kh + ki) * kw + kj) holds
///    w[32b .. 32b + 31, c, ki, kj], zeros past O.
///  - Winograd (WinogradConv.h, 3x3 only): the 16 matrices U[xi]^T [C, O]
///    (the transformed filters), each in GEMM panels of 32 output channels.
class PackedConvWeights {
 public:
  static constexpr int64_t kChannels = 32;
  enum class Layout { ChannelBlocks, Winograd };

  /// Throws std::invalid_argument unless `w` is a 4-d f32 tensor (3x3 for
  /// the Winograd layout).
  explicit PackedConvWeights(const Tensor& w, Layout layout = Layout::ChannelBlocks);

  /// The original weight's shape [O, C, kh, kw].
  const Shape& shape() const { return shape_; }
  Layout layout() const { return layout_; }
  int64_t numBlocks() const { return (shape_[0] + kChannels - 1) / kChannels; }
  /// ChannelBlocks: block b, C * kh * kw rows of 32 floats.
  const float* block(int64_t b) const { return data_.data() + b * taps_ * kChannels; }
  /// Winograd: U[xi]^T [C, O], xi < kWinogradPositions.
  const PackedPanels& winogradFilters(int64_t xi) const { return winograd_[static_cast<size_t>(xi)]; }

 private:
  Shape shape_;
  Layout layout_;
  int64_t taps_ = 0;
  ir::CacheAlignedVector<float> data_;
  std::vector<PackedPanels> winograd_;
};

/// Where one image's convolution reads and writes: the padded input
/// [C, Hp, Wp], the output [O, Ho, Wo], the kernel's taps, stride and
/// dilation.
struct ConvGeometry {
  int64_t C = 0, Hp = 0, Wp = 0;
  int64_t O = 0, Ho = 0, Wo = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
};

/// Whether a convolution with this weight shape [O, C, kh, kw] runs on
/// packed weights: ungrouped, a kernel larger than 1x1 (a 1x1 one is a plain
/// GEMM on the input, which the GEMM kernel runs faster), a horizontal
/// stride of 1 or 2, and at least 3/4 of every block's 32 channels used.
bool packedConvPays(const Shape& weight, std::array<int64_t, 2> stride, int64_t groups);

/// Output row `oh` of channels [32b, min(32b + 32, O)) of one image:
///   out[o, oh, ow] = bias[o - 32b] + sum over (c, ki, kj) of
///                    w[o, c, ki, kj] * xp[c, oh * sh + ki * dh, ow * sw + kj * dw]
/// `bias` holds the block's 32 biases (zero past O); `out` is [O, Ho, Wo].
void packedConvRowF32(const ConvGeometry& g, const float* xp, const PackedConvWeights& w, int64_t b,
                      const float* bias, float* out, int64_t oh);

}  // namespace cocktail::runtime::cpu
