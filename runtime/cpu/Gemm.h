//===- runtime/cpu/Gemm.h - An f32 GEMM micro-kernel for the CPU -------------------===//
//
// C = A @ B (+ beta * C) for row-major f32 matrices, with B not transposed:
// the shape of a convolution after im2col (weights [O, K] times columns
// [K, P]) and of `x @ W`. A register-blocked micro-kernel (4 rows x 32
// columns of C, 8 x 32 under AVX-512, held in vector registers over a
// slice of k from a packed panel of B) compiled for
// AVX-512, AVX2+FMA and the baseline, picked at load time as in Gemv.h;
// Debian's OpenBLAS falls back to SSE3 kernels on CPUs it does not know.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector>

#include "ir/CacheAligned.h"

namespace cocktail::runtime::cpu {

/// How B is stored: [k, m] row-major, or transposed ([m, k] row-major, as a
/// linear layer's weight is).
enum class BLayout { RowMajor, Transposed };

/// Columns [j0, j1) of C[n, *] = A[n, k] @ B[k, *] + beta * C + rowBias
/// (beta == 0: C is not read; rowBias[i], when given, is added to row i:
/// a convolution's bias, without a pass over C of its own). Leading dims in
/// elements. B is read only while packing, so either layout costs the same.
void gemmF32(int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc, int64_t j0, int64_t j1, const float* rowBias = nullptr,
             BLayout layout = BLayout::RowMajor);

/// B [k, m] packed once, for products that reuse it (a linear layer's
/// constant weight): panel q (columns 32q .. 32q + 31, zeros past m) holds
/// B's k rows of 32 floats one after the other, the layout gemmF32 packs
/// into per call.
class PackedPanels {
 public:
  PackedPanels(const float* B, int64_t k, int64_t m, int64_t ldb, BLayout layout);

  int64_t k() const { return k_; }
  int64_t m() const { return m_; }
  int64_t numPanels() const { return (m_ + 31) / 32; }
  /// Rows [p0, k) of panel q.
  const float* panel(int64_t q, int64_t p0) const { return data_.data() + (q * k_ + p0) * 32; }

 private:
  int64_t k_ = 0, m_ = 0;
  ir::CacheAlignedVector<float> data_;
};

/// gemmF32 on B packed beforehand: columns [32 q0, min(32 q1, m)) of C.
void gemmF32Packed(int64_t n, const float* A, int64_t lda, const PackedPanels& B, float beta, float* C, int64_t ldc,
                   int64_t q0, int64_t q1, const float* rowBias = nullptr);

/// Columns [32 q0, min(32 q1, m)) of C[n, m] = A[n, k] @ B[k, m], A given
/// transposed: At [k, n] with leading dimension ldat (A's column p is At's
/// row p). For a product whose rows are stored as columns: Winograd's
/// transformed tiles (WinogradConv.h), which then fill the kernel's rows.
void gemmF32PackedTransposedA(int64_t n, const float* At, int64_t ldat, const PackedPanels& B, float* C,
                              int64_t ldc, int64_t q0, int64_t q1);

}  // namespace cocktail::runtime::cpu
