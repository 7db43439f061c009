//===- runtime/cpu/WinogradConv.h - 3x3 convolutions as Winograd F(2x2, 3x3) ---------===//
//
// A 3x3 stride-1 convolution computes each 2x2 block of output pixels from
// the 4x4 patch of input under it (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016):
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A      (.) elementwise, over 4x4
//
// Summed over input channels, the elementwise product at each of the 16
// positions of the 4x4 tile is a matrix product: V[xi]^T [tiles, C] (the
// input patches, transformed per call) times U[xi]^T [C, O] (the filters,
// transformed and packed once at load). That is 16 multiplies per 4 outputs
// where the direct convolution needs 36: 2.25 times fewer, on the same GEMM
// kernel. Tiles are the product's rows, 8 to a register block, so a small
// map fills them (ResNet's 14x14: 49 tiles, 6 blocks and a row; 7x7: 16
// tiles, 2 blocks), where as columns, 32 to a panel, it would not.
// The transforms' coefficients are 0, +-1 and +-1/2, so the result differs
// from the direct sum only by rounding (a few ulp of the largest term).
//
// These are the steps; conv2d (NN.cpp) pads the image, runs them over the
// workers and applies the epilogue.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>

#include "runtime/Tensor.h"

namespace cocktail::runtime::cpu {

/// Positions of the 4x4 tile: the number of transformed matrices.
inline constexpr int64_t kWinogradPositions = 16;

/// Whether a convolution can run as Winograd F(2x2, 3x3): a 3x3 kernel,
/// stride 1, no dilation or groups. conv2d runs one on weights in the
/// Winograd layout whenever it can.
bool winogradApplies(const Shape& weight, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                     int64_t groups);

/// Whether a convolution with weight [O, C, kh, kw] on an H x W input pays
/// for its weights in the Winograd layout: it applies, with at least 16
/// input and output channels on a map of at least 12x12, and at least 2^20
/// multiplies of C x O x H x W (on this 2-core Xeon, against the other
/// kernels: ResNet's 3x3 convolutions x1.2-1.6 faster, a 16-channel 32x32
/// one or a 64-channel 8x8 one slower, their transforms and small GEMMs
/// costing more than they save). ResNet's 7x7 map with 512 channels runs no
/// faster: its 16 tiles use each transformed filter twice, so the 16.8 MB
/// of them (1.8 times the filters) stream from memory at the GEMM's pace.
bool winogradPays(const Shape& weight, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                  int64_t groups, int64_t H, int64_t W);

/// U[xi] = G g G^T for every filter g = w[o, c] (w: [O, C, 3, 3]) into
/// u[xi * O * C + o * C + c]; computed in double.
void winogradFilters(const float* w, int64_t O, int64_t C, float* u);

/// The tiles of a convolution's output [Ho, Wo]: 2x2 pixels each, the last
/// row and column of tiles cut in half when Ho or Wo is odd.
struct WinogradTiling {
  int64_t Ho = 0, Wo = 0;
  int64_t tilesH() const { return (Ho + 1) / 2; }
  int64_t tilesW() const { return (Wo + 1) / 2; }
  /// The padded input the patches are read from: rows and columns
  /// 2 * tiles + 2, so that every patch lies inside it.
  int64_t paddedH() const { return 2 * tilesH() + 2; }
  int64_t paddedW() const { return 2 * tilesW() + 2; }
};

/// V[xi] = B^T d B for channels [c0, c1) and tile rows [i0, i1) of the
/// padded image xp [C, paddedH, paddedW]: v[xi * C * n + c * n + t], n =
/// (i1 - i0) * tilesW, tile t = (i - i0) * tilesW + j reading the patch at
/// row 2i, column 2j. xp must be readable 32 floats past its end.
void winogradInputTiles(const WinogradTiling& tiling, const float* xp, int64_t C, int64_t c0, int64_t c1, int64_t i0,
                        int64_t i1, float* v);

/// out[o] = A^T m A (+ bias[o]) for output channels [o0, o1) and tile rows
/// [i0, i1), from the products m[xi * n * O + t * O + o] (n and t as for
/// winogradInputTiles, m readable 15 floats past its end); out is
/// [O, Ho, Wo]; `bias` may be null.
void winogradOutputTiles(const WinogradTiling& tiling, const float* m, int64_t O, int64_t o0, int64_t o1, int64_t i0,
                         int64_t i1, const float* bias, float* out);

}  // namespace cocktail::runtime::cpu
