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

#pragma GCC diagnostic ignored "-Wpsabi"

/// Compile a kernel for AVX-512, AVX2+FMA and the baseline; pick at load time.
/// Clang 14 (the fuzz preset's compiler) refuses target_clones on a function
/// called before its definition (FusedElementwise::runTile), and under
/// ThreadSanitizer the clones' resolver, run by the dynamic loader before the
/// TSan runtime is up, crashes at start; those builds, which are for testing,
/// not speed, take the baseline code.
#if (defined(__clang__) && __clang_major__ < 15) || defined(__SANITIZE_THREAD__)
#define COCKTAIL_MULTIVERSION
#else
#define COCKTAIL_MULTIVERSION __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#endif

namespace cocktail::runtime::cpu::vec {

using V16 = float __attribute__((vector_size(64)));
/// The same vector at any float's alignment, for loads and stores in place
/// (a memory operand of the FMA, where a memcpy left a copy on the stack).
using V16Unaligned = float __attribute__((vector_size(64), aligned(4), may_alias));

/// An unaligned vector load / store.
[[gnu::always_inline]] inline V16 load(const float* p) { return *reinterpret_cast<const V16Unaligned*>(p); }

[[gnu::always_inline]] inline void store(float* p, V16 v) { *reinterpret_cast<V16Unaligned*>(p) = v; }

/// x in every lane. In a hot loop write `x * v` instead, which GCC turns into
/// one broadcast from memory: here `0 + x` must really add (0 + -0.0 is
/// +0.0), and other spellings become 16 masked broadcasts.
[[gnu::always_inline]] inline V16 splat(float x) { return V16{} + x; }

[[gnu::always_inline]] inline float sum(V16 v) {
  float s = 0;
  for (int i = 0; i < 16; ++i) s += v[i];
  return s;
}

}  // namespace cocktail::runtime::cpu::vec
