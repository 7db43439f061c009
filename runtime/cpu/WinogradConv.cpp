//===- runtime/cpu/WinogradConv.cpp -----------------------------------------------===//
//
// The transforms run on 16 tiles of a row at a time, one per vector lane:
// the patches of neighbouring tiles are two columns apart in the input
// (split into even and odd columns), their entries in V and m adjacent.
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
using I16 = int __attribute__((vector_size(64)));

/// The even and the odd entries of the 32 floats (lo, hi).
[[gnu::always_inline]] inline V16 evens(V16 lo, V16 hi) {
  return __builtin_shuffle(lo, hi, I16{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
}
[[gnu::always_inline]] inline V16 odds(V16 lo, V16 hi) {
  return __builtin_shuffle(lo, hi, I16{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31});
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
  const int64_t tw = tiling.tilesW(), T = (i1 - i0) * tw, Ho = tiling.Ho, Wo = tiling.Wo;
  const int64_t plane = O * T;
  // Output rows [2 i0, end) are this call's; the next channel's follow on
  // only when that is every row.
  const int64_t end = std::min(Ho, 2 * i1);
  const int64_t nextChannels = i0 == 0 && end == Ho ? Ho * Wo : 0;
  const I16 low = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
  const I16 high = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  for (int64_t o = o0; o < o1; ++o) {
    const V16 b = splat(bias ? bias[o] : 0.0f);
    for (int64_t i = i0; i < i1; ++i) {
      const float* src = m + o * T + (i - i0) * tw;
      float* rows[2] = {out + (o * Ho + 2 * i) * Wo, 2 * i + 1 < Ho ? out + (o * Ho + 2 * i + 1) * Wo : nullptr};
      // 16 tiles at a time (the last group reads up to 15 floats past m's row).
      for (int64_t j = 0; j < tw; j += 16) {
        V16 s[4][4];
        for (int p = 0; p < 16; ++p) s[p / 4][p % 4] = load(src + p * plane + j);
        // t = A^T s: (s0 + s1 + s2, s1 - s2 - s3) down the columns; then Y = t A along the rows.
        const int64_t width = std::min<int64_t>(32, Wo - 2 * j);  // output pixels of this group
        for (int a = 0; a < 2; ++a) {
          if (!rows[a]) continue;
          V16 t[4];
          for (int k = 0; k < 4; ++k) t[k] = a == 0 ? s[0][k] + s[1][k] + s[2][k] : s[1][k] - s[2][k] - s[3][k];
          const V16 left = b + t[0] + t[1] + t[2], right = b + t[1] - t[2] - t[3];
          // Tile l's two pixels are columns 2 (j + l) and 2 (j + l) + 1: interleave.
          float* y = rows[a] + 2 * j;
          const V16 first = __builtin_shuffle(left, right, low), second = __builtin_shuffle(left, right, high);
          // As in the input transform, a short group may run on into the
          // next rows and channels; not from the upper row of a tile when
          // an earlier group already wrote the lower one.
          const int64_t room = a == 0 && j > 0 ? 0 : (o1 - 1 - o) * nextChannels + (end - 1 - (2 * i + a)) * Wo;
          storeFirst(y, first, std::min<int64_t>(16, width), room);
          if (width > 16) storeFirst(y + 16, second, width - 16, room);
        }
      }
    }
  }
}

}  // namespace cocktail::runtime::cpu
