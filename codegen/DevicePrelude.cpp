//===- codegen/DevicePrelude.cpp ------------------------------------------------===//
#include "codegen/DevicePrelude.h"

#include <string>

#include "codegen/ElementwiseMathText.h"

namespace cocktail::codegen {

namespace {

/// Up to the elementwise math.
constexpr std::string_view kPreludeHead =
    R"cuda(// ---- Cocktail device prelude -------------------------------------------------
typedef long long i64;

#ifndef COCKTAIL_SPIN_WAIT
// A waiting block backs off so that the blocks it waits for get the issue slots.
#define COCKTAIL_SPIN_WAIT() __nanosleep(32)
#endif

#ifndef COCKTAIL_DYNAMIC_SHARED
// The block's dynamic shared memory, sized by the launch (resident weights).
// The emulation harness defines its own: one buffer per emulated block.
#define COCKTAIL_DYNAMIC_SHARED(name) extern __shared__ __align__(16) unsigned char name[]
#endif

// Counting hooks: the emulation harness's perf report (tests/cuda_emu/
// cuda_emu.h) defines them; on a GPU they are nothing.
#ifndef COCKTAIL_COUNT_GRID_BARRIER
#define COCKTAIL_COUNT_GRID_BARRIER()
#endif
#ifndef COCKTAIL_COUNT_TILE_WAIT
#define COCKTAIL_COUNT_TILE_WAIT()
#endif
#ifndef COCKTAIL_COUNT_FLOPS
#define COCKTAIL_COUNT_FLOPS(n)
#endif

__device__ __forceinline__ i64 cocktail_min(i64 a, i64 b) { return a < b ? a : b; }
__device__ __forceinline__ i64 cocktail_max(i64 a, i64 b) { return a > b ? a : b; }
// One thread of the whole grid: the one that stores scalars for the host and later kernels.
__device__ __forceinline__ bool cocktail_leader() { return blockIdx.x == 0 && threadIdx.x == 0; }

// Slice bounds as PyTorch clamps them; a negative index counts from the end.
__device__ __forceinline__ i64 cocktail_slice_start(i64 s, i64 size) {
  if (s < 0) s += size;
  return s < 0 ? 0 : (s > size ? size : s);
}
__device__ __forceinline__ i64 cocktail_slice_end(i64 e, i64 start, i64 size) {
  if (e < 0) e += size;
  return e < start ? start : (e > size ? size : e);
}
__device__ __forceinline__ i64 cocktail_slice_len(i64 start, i64 end, i64 step) { return (end - start + step - 1) / step; }
__device__ __forceinline__ i64 cocktail_index(i64 i, i64 size) { return i < 0 ? i + size : i; }

)cuda";

/// After it: reductions, barriers, tile counters.
constexpr std::string_view kPreludeTail = R"cuda(
// Sum over the 32 lanes of a warp; lane 0 holds the result.
__device__ __forceinline__ float cocktail_warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// Grid-wide barrier of a cooperative launch (every block resident): a
// counter of arrived blocks and a generation that the last arrival bumps.
// barrier[0] is back to 0 after every use; barrier[1] only grows.
__device__ void cocktail_grid_sync(unsigned int* barrier) {
  __syncthreads();
  if (threadIdx.x == 0) {
    volatile unsigned int* generation = barrier + 1;
    const unsigned int seen = *generation;
    __threadfence();  // this block's writes before its arrival
    if (atomicAdd(barrier, 1u) == gridDim.x - 1) {
      COCKTAIL_COUNT_GRID_BARRIER();  // the last block to arrive: the others wait for it
      atomicExch(barrier, 0u);
      __threadfence();
      atomicAdd(barrier + 1, 1u);
    } else {
      while (*generation == seen) COCKTAIL_SPIN_WAIT();
    }
    __threadfence();  // the other blocks' writes before this block's reads
  }
  __syncthreads();
}
// Per-tile dependency counters (codegen/TileCounters.cpp). A producer's
// block publishes tile t's epoch once all its threads are done with the tile
// (release: the block barrier, then a fence, then the store); a consumer's
// block waits until every producer tile it reads has reached the epoch
// (acquire: the spin, then a fence, then the block barrier).
__device__ void cocktail_publish_tile(unsigned int* counter, unsigned int epoch) {
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    atomicExch(counter, epoch);
  }
}
__device__ void cocktail_wait_tiles(unsigned int* counters, i64 first, i64 last, unsigned int epoch) {
  if (threadIdx.x == 0) {
    COCKTAIL_COUNT_TILE_WAIT();
    for (i64 t = first; t <= last; ++t) {
      volatile unsigned int* c = counters + t;
      while (*c < epoch) COCKTAIL_SPIN_WAIT();
    }
    __threadfence();
  }
  __syncthreads();
}
// The device error word (runtime/cuda/CudaPlan.h, codegen/DeviceChecks.cpp):
// the first failed check stores (the grid barrier's generation << 32) |
// (check + 1) in E[0], then the offending value and the size it was checked
// against; the host reads it after the launch.
__device__ void cocktail_fail(unsigned long long* E, const unsigned int* barrier, unsigned int check, i64 value,
                              i64 size) {
  const unsigned long long generation = *(volatile const unsigned int*)(barrier + 1);
  if (atomicCAS(E, 0ull, (generation << 32) | (check + 1u)) == 0ull) {
    ((volatile i64*)E)[1] = value;
    ((volatile i64*)E)[2] = size;
  }
}
// An index into a dim of `size`; a negative one counts from the end where
// `wrap` (ATen's index does, index_select and gather do not). One out of
// range fails `check` and gives 0, so that no access leaves the tensor (the
// results are not used: the run fails).
__device__ __forceinline__ i64 cocktail_checked_index(i64 i, i64 size, bool wrap, unsigned long long* E,
                                                      const unsigned int* barrier, unsigned int check) {
  if (i < (wrap ? -size : 0) || i >= size) {
    cocktail_fail(E, barrier, check, i, size);
    return 0;
  }
  return i < 0 ? i + size : i;
}
// Right after a grid barrier, the same in every block: whether a check failed
// before that barrier. A failure since (in a block already past it) carries
// the barrier's current generation and counts at the next barrier, so no
// block leaves a loop that others stay in.
__device__ __forceinline__ bool cocktail_failed_before(const unsigned long long* E, const unsigned int* barrier) {
  const unsigned long long e = *(volatile const unsigned long long*)E;
  return e != 0ull && (unsigned int)(e >> 32) != *(volatile const unsigned int*)(barrier + 1);
}
// ---- end of prelude ---------------------------------------------------------------
)cuda";

}  // namespace

std::string_view devicePrelude() {
  // What each elementwise op computes: ir/ElementwiseMath.h, the CPU's definition.
  static const std::string prelude = std::string(kPreludeHead) + "\n// ---- ir/ElementwiseMath.h\n" +
                                     std::string(kElementwiseMathText) + std::string(kPreludeTail);
  return prelude;
}

}  // namespace cocktail::codegen
