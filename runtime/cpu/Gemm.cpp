//===- runtime/cpu/Gemm.cpp ---------------------------------------------------------===//
//
// Loop order: for each slice of at most kKc columns of A (rows of B), for
// each panel of 32 columns of B, the panel's slice is copied into a dense
// buffer (32 KiB: it stays in L1) and every group of R rows of A runs over
// it. A's slice stays in L2 across the panels, so A (a layer's weights,
// cold from memory) is read once per call, not once per panel. In place,
// consecutive rows of a panel are a whole row of B apart (12 KiB for a
// 56x56 image): every step of k would touch another page. Each micro-kernel
// keeps its R x 32 block of C in vector registers over the slice; later
// slices add to it. A last panel narrower than 32 columns is padded with zeros in
// the buffer and its block goes through a small tile, so every column takes
// the vector kernel; one of at most 16 columns takes a kernel of one vector.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/Gemm.h"

#include <algorithm>
#include <cstring>

#include "runtime/cpu/MicroKernel.h"

namespace cocktail::runtime::cpu {

namespace {

using namespace vec;
using micro::rowBlocks;

/// A packed panel's rows: 32 floats each, one after the other.
struct PanelRows {
  const float* panel;
  [[gnu::always_inline]] const float* operator()(int64_t p) const { return panel + p * 32; }
};

/// Rows of a B panel copied at a time: 256 x 32 floats, 32 KiB.
constexpr int64_t kKc = 256;
/// Rows of A per pass over the panels: their slice (1024 x 256 floats,
/// 1 MiB) stays in L2 while every panel of B passes over it, so A comes
/// from memory once per slice, not once per panel.
constexpr int64_t kMc = 1024;

/// Copies rows [p0, p0 + kc) of columns [j, j + width) of B into a dense
/// kc x 32 panel, zero-padded to 32 columns.
[[gnu::always_inline]] inline void packPanel(const float* B, int64_t ldb, BLayout layout, int64_t p0, int64_t kc,
                                             int64_t j, int64_t width, float* panel) {
  if (layout == BLayout::Transposed) {
    // Column j + c of B is row j + c of the stored matrix: read along it.
    for (int64_t c = 0; c < 32; ++c) {
      const float* col = B + (j + c) * ldb + p0;
      if (c < width)
        for (int64_t p = 0; p < kc; ++p) panel[p * 32 + c] = col[p];
      else
        for (int64_t p = 0; p < kc; ++p) panel[p * 32 + c] = 0.0f;
    }
  } else if (width == 32) {
    for (int64_t p = 0; p < kc; ++p) {  // two vector moves: a memcpy here becomes `rep movs`
      const float* row = B + (p0 + p) * ldb + j;
      store(panel + p * 32, load(row));
      store(panel + p * 32 + 16, load(row + 16));
    }
  } else {
    for (int64_t p = 0; p < kc; ++p) {
      std::memcpy(panel + p * 32, B + (p0 + p) * ldb + j, static_cast<size_t>(width) * sizeof(float));
      std::fill(panel + p * 32 + width, panel + (p + 1) * 32, 0.0f);
    }
  }
}

/// The loop of every entry point (see the file comment); A is an accessor
/// (MicroKernel.h: RowMajorA, TransposedA); panelOf(p0, kc, j, width) gives
/// rows [p0, p0 + kc) of the panel of columns [j, j + width).
template <typename AOf, typename PanelOf>
[[gnu::always_inline]] inline void gemmPanels(int64_t n, int64_t k, AOf A, float beta, float* C, int64_t ldc,
                                              int64_t j0, int64_t j1, const float* rowBias, PanelOf panelOf) {
  // 32 vector registers (AVX-512) hold an 8 x 32 block of C, 16 (AVX2) only 4 x 32.
  static const bool wide = __builtin_cpu_supports("avx512f");
  if (k == 0) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = j0; j < j1; ++j)
        C[i * ldc + j] = (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]) + (rowBias ? rowBias[i] : 0.0f);
    return;
  }
  for (int64_t p0 = 0; p0 < k; p0 += kKc) {
    const int64_t kc = std::min(kKc, k - p0);
    // The first slice brings beta and the bias; later ones add to C.
    const float b = p0 == 0 ? beta : 1.0f;
    for (int64_t i0 = 0; i0 < n; i0 += kMc) {
      const int64_t rowsHere = std::min(kMc, n - i0);
      const float* bias = p0 == 0 && rowBias ? rowBias + i0 : nullptr;
      for (int64_t j = j0; j < j1; j += 32) {
        const int64_t width = std::min<int64_t>(32, j1 - j);
        const PanelRows rows{panelOf(p0, kc, j, width)};
        const AOf a = A.fromRow(i0).fromColumn(p0);
        if (wide)
          rowBlocks<8>(rowsHere, width, kc, a, rows, b, bias, C + i0 * ldc + j, ldc);
        else
          rowBlocks<4>(rowsHere, width, kc, a, rows, b, bias, C + i0 * ldc + j, ldc);
      }
    }
  }
}

}  // namespace

COCKTAIL_MULTIVERSION
void gemmF32(int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc, int64_t j0, int64_t j1, const float* rowBias, BLayout layout) {
  alignas(64) float panel[kKc * 32];
  gemmPanels(n, k, micro::RowMajorA{A, lda}, beta, C, ldc, j0, j1, rowBias,
             [&](int64_t p0, int64_t kc, int64_t j, int64_t width) {
    packPanel(B, ldb, layout, p0, kc, j, width, panel);
    return static_cast<const float*>(panel);
  });
}

COCKTAIL_MULTIVERSION
void gemmF32Packed(int64_t n, const float* A, int64_t lda, const PackedPanels& B, float beta, float* C, int64_t ldc,
                   int64_t q0, int64_t q1, const float* rowBias) {
  const int64_t j1 = std::min(q1 * 32, B.m());
  gemmPanels(n, B.k(), micro::RowMajorA{A, lda}, beta, C, ldc, q0 * 32, j1, rowBias,
             [&](int64_t p0, int64_t, int64_t j, int64_t) { return B.panel(j / 32, p0); });
}

COCKTAIL_MULTIVERSION
void gemmF32PackedTransposedA(int64_t n, const float* At, int64_t ldat, const PackedPanels& B, float* C,
                              int64_t ldc, int64_t q0, int64_t q1) {
  const int64_t j1 = std::min(q1 * 32, B.m());
  gemmPanels(n, B.k(), micro::TransposedA{At, ldat}, 0.0f, C, ldc, q0 * 32, j1, nullptr,
             [&](int64_t p0, int64_t, int64_t j, int64_t) { return B.panel(j / 32, p0); });
}

PackedPanels::PackedPanels(const float* B, int64_t k, int64_t m, int64_t ldb, BLayout layout)
    : k_(k), m_(m), data_(static_cast<size_t>(numPanels() * k * 32)) {
  for (int64_t q = 0; q < numPanels(); ++q)
    packPanel(B, ldb, layout, 0, k, q * 32, std::min<int64_t>(32, m - q * 32), data_.data() + q * k * 32);
}

}  // namespace cocktail::runtime::cpu
