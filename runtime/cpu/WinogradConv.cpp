//===- runtime/cpu/WinogradConv.cpp -----------------------------------------------===//
//
// The input transform runs on 16 tiles of a row at a time, one per vector
// lane: the patches of neighbouring tiles are two columns apart in the input
// (split into even and odd columns), their entries in V adjacent. The output
// transform runs on 16 output channels at a time, adjacent in m.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/WinogradConv.h"

#include <algorithm>

#include "runtime/cpu/Vec16.h"

namespace cocktail::runtime::cpu {

bool winogradApplies(const Shape& weight, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                     int64_t groups) {
  return weight.size() == 4 && weight[2] == 3 && weight[3] == 3 && stride == std::array<int64_t, 2>{1, 1} &&
         dilation == std::array<int64_t, 2>{1, 1} && groups == 1;
}

bool winogradPays(const Shape& weight, std::array<int64_t, 2> stride, std::array<int64_t, 2> dilation,
                  int64_t groups, int64_t H, int64_t W) {
  return winogradApplies(weight, stride, dilation, groups) && weight[0] >= 16 && weight[1] >= 16 && H >= 12 &&
         W >= 12 && weight[0] * weight[1] * H * W >= (int64_t{1} << 20);
}

void winogradFilters(const float* w, int64_t O, int64_t C, float* u) {
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  const int64_t plane = O * C;
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (o * C + c) * 9;
      double gg[4][3];  // G g
      for (int a = 0; a < 4; ++a)
        for (int q = 0; q < 3; ++q) gg[a][q] = G[a][0] * g[q] + G[a][1] * g[3 + q] + G[a][2] * g[6 + q];
      for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b)
          u[(a * 4 + b) * plane + o * C + c] =
              static_cast<float>(gg[a][0] * G[b][0] + gg[a][1] * G[b][1] + gg[a][2] * G[b][2]);
    }
}

namespace {

using namespace vec;

/// The even and the odd entries of the 32 floats (lo, hi).
[[gnu::always_inline]] inline V16 evens(V16 lo, V16 hi) {
  return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
[[gnu::always_inline]] inline V16 odds(V16 lo, V16 hi) {
  return __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/// Stores the first n (<= 16) lanes of v at p; all 16 when the `room`
/// floats past p + n, which the caller writes later, hold the rest.
[[gnu::always_inline]] inline void storeFirst(float* p, V16 v, int64_t n, int64_t room) {
  if (n + room >= 16) return store(p, v);
  alignas(64) float lanes[16];
  store(lanes, v);
  std::copy_n(lanes, n, p);
}

}  // namespace

COCKTAIL_MULTIVERSION
void winogradInputTiles(const WinogradTiling& tiling, const float* xp, int64_t C, int64_t c0, int64_t c1, int64_t i0,
                        int64_t i1, float* v) {
  const int64_t tw = tiling.tilesW(), T = (i1 - i0) * tw, Hp = tiling.paddedH(), Wp = tiling.paddedW();
  const int64_t plane = C * T;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t i = i0; i < i1; ++i) {
      const float* r0 = xp + (c * Hp + 2 * i) * Wp;
      float* dst = v + c * T + (i - i0) * tw;
      // A short group's extra lanes may land on the tiles of the next rows
      // and channels, which this call writes later.
      const int64_t room = (c1 - 1 - c) * T + (i1 - 1 - i) * tw;
      // 16 tiles at a time: lane l is tile j + l, whose patch starts at
      // column 2 (j + l). The last group reads up to 32 floats past its row.
      for (int64_t j = 0; j < tw; j += 16) {
        const int64_t n = std::min<int64_t>(16, tw - j);
        // e = d B on each row: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
        V16 e[4][4];
        for (int r = 0; r < 4; ++r) {
          const float* p = r0 + r * Wp + 2 * j;
          const V16 lo = load(p), hi = load(p + 16), lo2 = load(p + 2), hi2 = load(p + 18);
          const V16 d0 = evens(lo, hi), d1 = odds(lo, hi), d2 = evens(lo2, hi2), d3 = odds(lo2, hi2);
          e[r][0] = d0 - d2;
          e[r][1] = d1 + d2;
          e[r][2] = d2 - d1;
          e[r][3] = d1 - d3;
        }
        // V = B^T e, the same combination down the columns.
        for (int k = 0; k < 4; ++k) {
          storeFirst(dst + (0 * 4 + k) * plane + j, e[0][k] - e[2][k], n, room);
          storeFirst(dst + (1 * 4 + k) * plane + j, e[1][k] + e[2][k], n, room);
          storeFirst(dst + (2 * 4 + k) * plane + j, e[2][k] - e[1][k], n, room);
          storeFirst(dst + (3 * 4 + k) * plane + j, e[1][k] - e[3][k], n, room);
        }
      }
    }
}

COCKTAIL_MULTIVERSION
void winogradOutputTiles(const WinogradTiling& tiling, const float* m, int64_t O, int64_t o0, int64_t o1, int64_t i0,
                         int64_t i1, const float* bias, float* out) {
  const int64_t tw = tiling.tilesW(), T = (i1 - i0) * tw, Ho = tiling.Ho, Wo = tiling.Wo, P = Ho * Wo;
  const int64_t plane = T * O;  // one position's products
  // 16 output channels at a time, one per lane: a tile's products for them
  // are adjacent in m, its pixels a plane apart in the output.
  for (int64_t o = o0; o < o1; o += 16) {
    const int64_t n = std::min<int64_t>(16, o1 - o);
    alignas(64) float lanes[16] = {};
    if (bias) std::copy_n(bias + o, n, lanes);
    const V16 b = load(lanes);
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = 0; j < tw; ++j) {
        // The last group of the last tile reads up to 15 floats past m.
        const float* src = m + ((i - i0) * tw + j) * O + o;
        V16 s[4][4];
        for (int p = 0; p < 16; ++p) s[p / 4][p % 4] = load(src + p * plane);
        // t = A^T s: (s0 + s1 + s2, s1 - s2 - s3) down the columns; then Y = t A along the rows.
        alignas(64) float y[2][2][16];
        for (int a = 0; a < 2; ++a) {
          V16 t[4];
          for (int k = 0; k < 4; ++k) t[k] = a == 0 ? s[0][k] + s[1][k] + s[2][k] : s[1][k] - s[2][k] - s[3][k];
          store(y[a][0], b + t[0] + t[1] + t[2]);
          store(y[a][1], b + t[1] - t[2] - t[3]);
        }
        // The last row and column of tiles are cut in half on an odd map.
        const int64_t rows = std::min<int64_t>(2, Ho - 2 * i), cols = std::min<int64_t>(2, Wo - 2 * j);
        float* pixel = out + o * P + 2 * i * Wo + 2 * j;
        for (int64_t l = 0; l < n; ++l)
          for (int64_t a = 0; a < rows; ++a)
            for (int64_t c = 0; c < cols; ++c) pixel[l * P + a * Wo + c] = y[a][c][l];
      }
  }
}

}  // namespace cocktail::runtime::cpu
