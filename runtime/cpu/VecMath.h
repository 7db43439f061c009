//===- runtime/cpu/VecMath.h - Vectorised exp, sigmoid, tanh, silu and mish for f32 --===//
//
// libm's expf and tanhf are scalar calls, ~10 ns each: an LSTM cell's three
// sigmoids and two tanhs over 256 elements cost more than its GEMVs' share
// of the step. These evaluate 16 lanes at a time (Cephes' polynomials, as
// PyTorch's Sleef kernels do in spirit), within a few ulp of libm, with
// libm's results at the edges: NaN stays NaN, exp overflows to inf and
// underflows gradually to 0, tanh keeps the sign of zero.
//
// Every element, the last ragged ones included, goes through the same
// vector code, so a value does not depend on where it sits in the array:
// a fused body and the op-by-op kernels give the same bits.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace cocktail::runtime::cpu {

/// y[i] = f(x[i]) for i < n; x and y may be the same array.
void expF32(const float* x, float* y, int64_t n);
/// 1 / (1 + exp(-x)).
void sigmoidF32(const float* x, float* y, int64_t n);
void tanhF32(const float* x, float* y, int64_t n);
/// x / (1 + exp(-x)).
void siluF32(const float* x, float* y, int64_t n);
/// x * tanh(softplus(x)).
void mishF32(const float* x, float* y, int64_t n);

}  // namespace cocktail::runtime::cpu
