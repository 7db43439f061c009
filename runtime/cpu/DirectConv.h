//===- runtime/cpu/DirectConv.h - Stride-1 convolution without im2col --------------===//
//
// A stride-1 convolution reads, for each tap (c, ki, kj) and each run of 32
// output pixels of one output row, 32 consecutive input pixels of a padded
// image: the rows of im2col's matrix are already there, shifted. The GEMM
// micro-kernel (MicroKernel.h) runs on them in place, so the unfolded matrix
// (9 times the input for a 3x3 kernel) is never written, read or packed. On
// BlockDrop's small maps (16-64 channels) the unfolding cost as much as the
// products.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace cocktail::runtime::cpu {

/// One image of a stride-1, undilated, ungrouped f32 convolution, output
/// rows [oh0, oh1) of every channel:
///   out[o, oh, ow] = bias[o] + sum over (c, ki, kj) of w[o, c, ki, kj] * xp[c, oh + ki, ow + kj]
/// xp: the padded input [C, Hp, Wp], readable for 32 floats past its end.
/// tapOffsets[p]: where tap p = (c * kh + ki) * kw + kj starts in xp
/// (c * Hp * Wp + ki * Wp + kj). w is [O, taps] row-major; bias may be null;
/// out is [O, Ho, Wo].
void convDirectF32(const float* xp, int64_t Wp, const int64_t* tapOffsets, int64_t taps, const float* w,
                   const float* bias, float* out, int64_t O, int64_t Ho, int64_t Wo, int64_t oh0, int64_t oh1);

}  // namespace cocktail::runtime::cpu
