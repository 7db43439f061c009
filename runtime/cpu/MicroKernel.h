//===- runtime/cpu/MicroKernel.h - The register-blocked f32 kernel of GEMM and conv ---===//
//
// C[R, 32] += A[R, k] @ B[k, 32], the R x 32 block of C held in vector
// registers (R = 8 under AVX-512, 4 under AVX2) over all of k; A's entries
// are broadcast from memory. Where B's rows come from is a parameter
// (`rows(p)` gives row p): a packed panel in the GEMM (Gemm.cpp), shifted rows
// of a padded image in the direct convolution (DirectConv.cpp). So is how A
// is stored (`a(r, p)` gives entry (r, p)): row-major, or transposed as
// Winograd's transformed tiles are (WinogradConv.h).
//
// Private to those kernel sources: include it only from a function compiled
// with COCKTAIL_MULTIVERSION, into which all of it inlines (see Vec16.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/cpu/Vec16.h"

namespace cocktail::runtime::cpu::micro {

using namespace vec;

/// A row-major: entry (r, p) at a[r * lda + p].
struct RowMajorA {
  const float* a;
  int64_t lda;
  [[gnu::always_inline]] float operator()(int64_t r, int64_t p) const { return a[r * lda + p]; }
  /// The same matrix from row i on.
  [[gnu::always_inline]] RowMajorA fromRow(int64_t i) const { return {a + i * lda, lda}; }
  /// The same matrix from column p on.
  [[gnu::always_inline]] RowMajorA fromColumn(int64_t p) const { return {a + p, lda}; }
};

/// A stored transposed ([k, n] row-major): entry (r, p) at a[p * ld + r], a
/// step of k moving one row of the stored matrix on.
struct TransposedA {
  const float* a;
  int64_t ld;
  [[gnu::always_inline]] float operator()(int64_t r, int64_t p) const { return a[p * ld + r]; }
  [[gnu::always_inline]] TransposedA fromRow(int64_t i) const { return {a + i, ld}; }
  [[gnu::always_inline]] TransposedA fromColumn(int64_t p) const { return {a + p * ld, ld}; }
};

/// C[R, 32] = A[R, k] @ B[k, 32] + beta * C (+ bias[r] on row r), entry
/// (r, p) of A at A(r, p), row p of B at rows(p) (beta == 0: C is not read;
/// bias null: none).
template <int R, typename AOf, typename Rows>
[[gnu::always_inline]] inline void block(int64_t k, AOf A, Rows rows, float beta, const float* bias, float* C,
                                         int64_t ldc) {
  V16 acc[R][2] = {};
  if (bias)
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = splat(bias[r]);
  for (int64_t p = 0; p < k; ++p) {
    const float* b = rows(p);
    const V16 b0 = load(b), b1 = load(b + 16);
    for (int r = 0; r < R; ++r) {
      const float a = A(r, p);  // scalar times vector: a broadcast load (see splat)
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 2; ++c) {
      float* out = C + r * ldc + int64_t{16} * c;
      store(out, beta == 0.0f ? acc[r][c] : acc[r][c] + load(out) * beta);
    }
}

/// block<R> for B's first 16 columns only: half the multiplies, for a last
/// panel of at most 16 columns (a 14x14 map has 196 = 6 x 32 + 4 pixels).
template <int R, typename AOf, typename Rows>
[[gnu::always_inline]] inline void halfBlock(int64_t k, AOf A, Rows rows, float beta, const float* bias, float* C,
                                             int64_t ldc) {
  V16 acc[R] = {};
  if (bias)
    for (int r = 0; r < R; ++r) acc[r] = splat(bias[r]);
  for (int64_t p = 0; p < k; ++p) {
    const V16 b0 = load(rows(p));
    for (int r = 0; r < R; ++r) acc[r] += A(r, p) * b0;
  }
  for (int r = 0; r < R; ++r) {
    float* out = C + r * ldc;
    store(out, beta == 0.0f ? acc[r] : acc[r] + load(out) * beta);
  }
}

/// The R rows of C from `i`, `width` (<= 32) columns of it. B's rows must
/// be readable for 32 floats (16 when width <= 16) whatever the width.
template <int R, typename AOf, typename Rows>
[[gnu::always_inline]] inline void rowBlock(int64_t width, int64_t k, AOf A, Rows rows, float beta,
                                            const float* bias, float* C, int64_t ldc) {
  if (width == 32) return block<R>(k, A, rows, beta, bias, C, ldc);
  // A ragged panel goes through a tile, so that no store leaves C's columns.
  alignas(64) float tile[R * 32];
  for (int r = 0; r < R; ++r) {
    std::fill(tile + r * 32, tile + (r + 1) * 32, 0.0f);
    if (beta != 0.0f) std::copy(C + r * ldc, C + r * ldc + width, tile + r * 32);
  }
  if (width <= 16)
    halfBlock<R>(k, A, rows, beta, bias, tile, 32);
  else
    block<R>(k, A, rows, beta, bias, tile, 32);
  for (int r = 0; r < R; ++r) std::copy(tile + r * 32, tile + r * 32 + width, C + r * ldc);
}

/// Rows [0, n) of C, R at a time, then 4, then 1.
template <int R, typename AOf, typename Rows>
[[gnu::always_inline]] inline void rowBlocks(int64_t n, int64_t width, int64_t k, AOf A, Rows rows, float beta,
                                             const float* bias, float* C, int64_t ldc) {
  auto at = [&](int64_t i) { return bias ? bias + i : nullptr; };
  int64_t i = 0;
  if constexpr (R > 4)
    for (; i + R <= n; i += R) rowBlock<R>(width, k, A.fromRow(i), rows, beta, at(i), C + i * ldc, ldc);
  for (; i + 4 <= n; i += 4) rowBlock<4>(width, k, A.fromRow(i), rows, beta, at(i), C + i * ldc, ldc);
  for (; i < n; ++i) rowBlock<1>(width, k, A.fromRow(i), rows, beta, at(i), C + i * ldc, ldc);
}

}  // namespace cocktail::runtime::cpu::micro
