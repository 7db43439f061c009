//===- runtime/cpu/DirectConv.cpp ---------------------------------------------------===//
#include "runtime/cpu/DirectConv.h"

#include "runtime/cpu/MicroKernel.h"

namespace cocktail::runtime::cpu {

namespace {

/// Row p of the implicit im2col matrix, from output pixel (oh, ow0) on.
struct TapRows {
  const float* origin;  // xp + oh * Wp + ow0
  const int64_t* offsets;
  [[gnu::always_inline]] const float* operator()(int64_t p) const { return origin + offsets[p]; }
};

}  // namespace

COCKTAIL_MULTIVERSION
void convDirectF32(const float* xp, int64_t Wp, const int64_t* tapOffsets, int64_t taps, const float* w,
                   const float* bias, float* out, int64_t O, int64_t Ho, int64_t Wo, int64_t oh0, int64_t oh1) {
  static const bool wide = __builtin_cpu_supports("avx512f");
  const int64_t plane = Ho * Wo;
  for (int64_t oh = oh0; oh < oh1; ++oh)
    for (int64_t ow0 = 0; ow0 < Wo; ow0 += 32) {
      const int64_t width = std::min<int64_t>(32, Wo - ow0);
      const TapRows rows{xp + oh * Wp + ow0, tapOffsets};
      float* c = out + oh * Wo + ow0;
      // The weights (at most 64 channels x 9 taps per output channel, see
      // conv2d) stay in L2 across the output rows.
      if (wide)
        micro::rowBlocks<8>(O, width, taps, micro::RowMajorA{w, taps}, rows, 0.0f, bias, c, plane);
      else
        micro::rowBlocks<4>(O, width, taps, micro::RowMajorA{w, taps}, rows, 0.0f, bias, c, plane);
    }
}

}  // namespace cocktail::runtime::cpu
