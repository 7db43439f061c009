//===- runtime/cpu/Vec16.h - A 16-float vector for the multiversioned kernels -------===//
//
// A GCC vector type: one zmm register under AVX-512, two ymm under AVX2,
// four xmm on the baseline, so one kernel source serves every clone of a
// target_clones function (Gemv.cpp, Gemm.cpp). The helpers are always inlined
// into each clone, so no vector crosses a call boundary (what -Wpsabi warns
// of for a non-inlined call); include this only from such kernel sources.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstring>

#pragma GCC diagnostic ignored "-Wpsabi"

/// Compile a kernel for AVX-512, AVX2+FMA and the baseline; pick at load time.
#define COCKTAIL_MULTIVERSION __attribute__((target_clones("avx512f", "arch=haswell", "default")))

namespace cocktail::runtime::cpu::vec {

using V16 = float __attribute__((vector_size(64)));

/// An unaligned vector load / store.
[[gnu::always_inline]] inline V16 load(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void store(float* p, V16 v) { std::memcpy(p, &v, sizeof v); }

[[gnu::always_inline]] inline V16 splat(float x) { return V16{} + x; }

[[gnu::always_inline]] inline float sum(V16 v) {
  float s = 0;
  for (int i = 0; i < 16; ++i) s += v[i];
  return s;
}

}  // namespace cocktail::runtime::cpu::vec
