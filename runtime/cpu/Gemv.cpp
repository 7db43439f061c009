//===- runtime/cpu/Gemv.cpp ---------------------------------------------------------===//
//
// Written with the 16-float vector of Vec16.h, one source for every clone.
// Products accumulate in vector lanes and are summed at the end (the order differs from a scalar loop in the last bits, as any
// BLAS does).
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/Gemv.h"

#include "runtime/cpu/Vec16.h"

namespace cocktail::runtime::cpu {

using namespace vec;

COCKTAIL_MULTIVERSION
void gemvRowsF32(const float* W, int64_t ldw, const float* x, int64_t k, float alpha, float beta, float* y,
                 int64_t r0, int64_t r1) {
  const int64_t kv = k - k % 16;
  auto finish = [&](int64_t r, float dot) { y[r] = alpha * dot + (beta == 0.0f ? 0.0f : beta * y[r]); };
  int64_t r = r0;
  // Four rows at a time: each vector of x is loaded once for four rows.
  for (; r + 4 <= r1; r += 4) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    V16 a0{}, a1{}, a2{}, a3{};
    for (int64_t p = 0; p < kv; p += 16) {
      const V16 xv = load(x + p);
      a0 += load(w0 + p) * xv;
      a1 += load(w1 + p) * xv;
      a2 += load(w2 + p) * xv;
      a3 += load(w3 + p) * xv;
    }
    float d0 = sum(a0), d1 = sum(a1), d2 = sum(a2), d3 = sum(a3);
    for (int64_t p = kv; p < k; ++p) {
      d0 += w0[p] * x[p];
      d1 += w1[p] * x[p];
      d2 += w2[p] * x[p];
      d3 += w3[p] * x[p];
    }
    finish(r, d0), finish(r + 1, d1), finish(r + 2, d2), finish(r + 3, d3);
  }
  for (; r < r1; ++r) {
    const float* w = W + r * ldw;
    V16 a{};
    for (int64_t p = 0; p < kv; p += 16) a += load(w + p) * load(x + p);
    float d = sum(a);
    for (int64_t p = kv; p < k; ++p) d += w[p] * x[p];
    finish(r, d);
  }
}

COCKTAIL_MULTIVERSION
void gemvColsF32(const float* B, int64_t ldb, const float* x, int64_t k, float alpha, float beta, float* y,
                 int64_t j0, int64_t j1) {
  int64_t j = j0;
  // 64 outputs at a time stay in four vector accumulators over all of k.
  for (; j + 64 <= j1; j += 64) {
    V16 a0{}, a1{}, a2{}, a3{};
    for (int64_t p = 0; p < k; ++p) {
      const float* b = B + p * ldb + j;
      const V16 xv = splat(x[p]);
      a0 += load(b) * xv;
      a1 += load(b + 16) * xv;
      a2 += load(b + 32) * xv;
      a3 += load(b + 48) * xv;
    }
    const V16 acc[4] = {a0, a1, a2, a3};
    for (int q = 0; q < 4; ++q) {
      V16 out = acc[q] * alpha;
      if (beta != 0.0f) out += load(y + j + int64_t{16} * q) * beta;
      store(y + j + int64_t{16} * q, out);
    }
  }
  for (; j < j1; ++j) {
    float d = 0;
    for (int64_t p = 0; p < k; ++p) d += x[p] * B[p * ldb + j];
    y[j] = alpha * d + (beta == 0.0f ? 0.0f : beta * y[j]);
  }
}

}  // namespace cocktail::runtime::cpu
