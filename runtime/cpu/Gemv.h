//===- runtime/cpu/Gemv.h - f32 matrix-vector products for one row of output -------===//
//
// At batch 1 every linear layer of an RNN cell is a matrix-vector product
// that streams its weights once: memory-bound, so it must read at full
// vector width. These kernels are compiled for AVX-512, AVX2+FMA and the
// baseline and pick the best at load time (GCC function multiversioning),
// where the Debian OpenBLAS may fall back to SSE3 kernels on a CPU it does
// not know. Both forms take a range of outputs so that workers can split one
// product between them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace cocktail::runtime::cpu {

/// y[r] = alpha * dot(W[r, 0:k], x) + beta * y[r] for r in [r0, r1): W is
/// row-major with leading dim ldw (the `linear` form, x @ W^T). beta == 0
/// never reads y.
void gemvRowsF32(const float* W, int64_t ldw, const float* x, int64_t k, float alpha, float beta, float* y,
                 int64_t r0, int64_t r1);

/// y[j] = alpha * sum_p x[p] * B[p, j] + beta * y[j] for j in [j0, j1): B is
/// row-major [k, *] with leading dim ldb (the `matmul` form, x @ B).
void gemvColsF32(const float* B, int64_t ldb, const float* x, int64_t k, float alpha, float beta, float* y,
                 int64_t j0, int64_t j1);

}  // namespace cocktail::runtime::cpu
