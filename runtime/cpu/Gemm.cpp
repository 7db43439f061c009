//===- runtime/cpu/Gemm.cpp ---------------------------------------------------------===//
//
// Loop order: a panel of 32 columns of B (k x 32) is reused by every group of
// four rows of A while it sits in L2; each micro-kernel keeps its 4 x 32
// block of C in eight 16-float vector accumulators for all of k, so C is
// read and written once. Remainders take the same kernel with fewer rows or
// one vector of columns, then a scalar loop for the last < 16 columns.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/Gemm.h"

#include "runtime/cpu/Vec16.h"

namespace cocktail::runtime::cpu {

namespace {

using namespace vec;

/// C[R, 16 * CV] (+)= A[R, k] @ B[k, 16 * CV].
template <int R, int CV>
[[gnu::always_inline]] inline void block(int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc) {
  V16 acc[R][CV] = {};
  for (int64_t p = 0; p < k; ++p) {
    V16 b[CV];
    for (int c = 0; c < CV; ++c) b[c] = load(B + p * ldb + 16 * c);
    for (int r = 0; r < R; ++r) {
      const V16 a = splat(A[r * lda + p]);
      for (int c = 0; c < CV; ++c) acc[r][c] += a * b[c];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < CV; ++c) {
      float* out = C + r * ldc + 16 * c;
      store(out, beta == 0.0f ? acc[r][c] : acc[r][c] + load(out) * beta);
    }
}

template <int CV>
[[gnu::always_inline]] inline void rows(int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                 float* C, int64_t ldc) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) block<4, CV>(k, A + i * lda, lda, B, ldb, beta, C + i * ldc, ldc);
  for (; i < n; ++i) block<1, CV>(k, A + i * lda, lda, B, ldb, beta, C + i * ldc, ldc);
}

}  // namespace

COCKTAIL_MULTIVERSION
void gemmF32(int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc, int64_t j0, int64_t j1) {
  int64_t j = j0;
  for (; j + 32 <= j1; j += 32) rows<2>(n, k, A, lda, B + j, ldb, beta, C + j, ldc);
  for (; j + 16 <= j1; j += 16) rows<1>(n, k, A, lda, B + j, ldb, beta, C + j, ldc);
  for (; j < j1; ++j)
    for (int64_t i = 0; i < n; ++i) {
      float d = 0;
      for (int64_t p = 0; p < k; ++p) d += A[i * lda + p] * B[p * ldb + j];
      C[i * ldc + j] = d + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
    }
}

}  // namespace cocktail::runtime::cpu
