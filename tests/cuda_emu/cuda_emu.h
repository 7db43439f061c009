//===- tests/cuda_emu/cuda_emu.h - Generated CUDA as C++, every thread a fiber -------------===//
//
// Force-included (g++ -include cuda_emu.h -DCOCKTAIL_EMULATION) before a
// module the CUDA code generator wrote, so that the same text compiles into
// a shared library for the CPU. It supplies what CUDA would: the qualifiers,
// threadIdx/blockIdx/blockDim/gridDim, __syncthreads, warp shuffles,
// atomics, fences, and a launcher.
//
// Every CUDA thread of a launch is a fiber (ucontext), and all blocks of the
// grid run in one round-robin scheduler on one OS thread, so that the blocks
// of a cooperative launch are co-resident as CUDA guarantees: a block that
// spins in the grid barrier yields (COCKTAIL_SPIN_WAIT) and the others
// advance. A fiber switches only where a CUDA thread could wait for another
// (a barrier, a shuffle, a spin), so atomics need no locks and the built-in
// variables are set on each switch. Memory is one address space: the arena
// is host memory.
//
// Limits, which the generator respects: blockDim.x a multiple of 32, full
// warp masks, no static __shared__ arrays (one would be shared by all
// blocks). Dynamic shared memory goes through COCKTAIL_DYNAMIC_SHARED, which
// here is a buffer of the launch's size per block, poisoned like the arena.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <setjmp.h>
#include <ucontext.h>

#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
};

namespace cocktail_emu {

// A fiber starts on its own stack through makecontext/swapcontext once;
// after that, switches are _setjmp/_longjmp, which (unlike swapcontext) do
// not save the signal mask with a system call on every switch.
struct Fiber {
  ucontext_t context;
  jmp_buf jump;
  std::vector<char> stack;
  dim3 thread, block;
  bool started = false, done = false;
};

struct Scheduler {
  ucontext_t main;
  jmp_buf mainJump;
  std::vector<Fiber> fibers;
  size_t current = 0;
  // Barrier state: per block (__syncthreads) and per warp (shuffles).
  std::vector<unsigned> blockArrived, blockGeneration;
  std::vector<unsigned> warpArrived, warpGeneration;
  std::vector<uint64_t> warpLanes;  // a value per thread, for shuffles
  std::vector<std::vector<unsigned char>> shared;  // each block's dynamic shared memory
  unsigned warpsPerBlock = 0;
  uint64_t switches = 0, switchLimit = 0;
  bool aborted = false;
  void (*kernel)(const void*) = nullptr;
  const void* frame = nullptr;
};

inline Scheduler* scheduler = nullptr;

}  // namespace cocktail_emu

// The built-in variables: the scheduler sets them for the fiber it resumes.
inline dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace cocktail_emu {

/// Back to the scheduler; it resumes the next fiber.
inline void yield() {
  Scheduler& s = *scheduler;
  if (++s.switches > s.switchLimit) s.aborted = true;
  if (!_setjmp(s.fibers[s.current].jump)) _longjmp(s.mainJump, 1);
}

inline size_t threadIndex() { return blockIdx.x * blockDim.x + threadIdx.x; }

/// Waits until all `count` participants of barrier `i` have arrived.
inline void barrier(std::vector<unsigned>& arrived, std::vector<unsigned>& generation, size_t i, unsigned count) {
  const unsigned gen = generation[i];
  if (++arrived[i] == count) {
    arrived[i] = 0;
    ++generation[i];
    return;
  }
  while (generation[i] == gen) yield();
}

inline void entry() {
  Scheduler& s = *scheduler;
  s.kernel(s.frame);
  s.fibers[s.current].done = true;
  _longjmp(s.mainJump, 1);
}

/// Runs fiber i until it yields or finishes.
inline void resume(Scheduler& s, size_t i) {
  Fiber& f = s.fibers[i];
  s.current = i;
  threadIdx = f.thread;
  blockIdx = f.block;
  if (_setjmp(s.mainJump)) return;  // back from the fiber
  if (!f.started) {
    f.started = true;
    swapcontext(&s.main, &f.context);
  } else {
    _longjmp(f.jump, 1);
  }
}

}  // namespace cocktail_emu

// ---- CUDA's qualifiers and built-ins ------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define COCKTAIL_SPIN_WAIT() cocktail_emu::yield()
#define COCKTAIL_DYNAMIC_SHARED(name) unsigned char* const name = cocktail_emu::scheduler->shared[blockIdx.x].data()

inline void __syncthreads() {
  cocktail_emu::Scheduler& s = *cocktail_emu::scheduler;
  cocktail_emu::barrier(s.blockArrived, s.blockGeneration, blockIdx.x, blockDim.x);
}
inline void __threadfence() {}
inline void __nanosleep(unsigned) { cocktail_emu::yield(); }

template <typename T>
T __shfl_down_sync(unsigned /*mask*/, T value, int offset) {
  cocktail_emu::Scheduler& s = *cocktail_emu::scheduler;
  const size_t lane = threadIdx.x & 31, warp = blockIdx.x * s.warpsPerBlock + (threadIdx.x >> 5);
  const size_t me = cocktail_emu::threadIndex();
  static_assert(sizeof(T) <= sizeof(uint64_t));
  std::memcpy(&s.warpLanes[me], &value, sizeof(T));
  cocktail_emu::barrier(s.warpArrived, s.warpGeneration, warp, 32);  // every lane has written
  T result = value;
  if (lane + static_cast<size_t>(offset) < 32) std::memcpy(&result, &s.warpLanes[me + offset], sizeof(T));
  cocktail_emu::barrier(s.warpArrived, s.warpGeneration, warp, 32);  // every lane has read
  return result;
}

inline unsigned int atomicAdd(unsigned int* p, unsigned int v) {
  const unsigned int old = *p;
  *p = old + v;
  return old;
}
inline unsigned int atomicExch(unsigned int* p, unsigned int v) {
  const unsigned int old = *p;
  *p = v;
  return old;
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare, unsigned long long v) {
  const unsigned long long old = *p;
  if (old == compare) *p = v;
  return old;
}
inline long long __double_as_longlong(double d) {
  long long r;
  std::memcpy(&r, &d, sizeof r);
  return r;
}
inline double __longlong_as_double(long long v) {
  double r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
// expf, tanhf, ... and their double forms come from <math.h>, as in CUDA.

// ---- the launcher the harness calls (dlsym) -------------------------------------------------

/// Runs `kernel` on grid x block threads, each block with `sharedBytes` of
/// dynamic shared memory; 0 on success, 1 when the switch
/// budget ran out (a deadlock, or a far longer run than any test needs).
extern "C" int cocktail_emu_launch(void (*kernel)(const void*), const void* frame, unsigned grid, unsigned block,
                                   unsigned long long sharedBytes, unsigned long long switchLimit) {
  using namespace cocktail_emu;
  Scheduler s;
  scheduler = &s;
  s.kernel = kernel;
  s.frame = frame;
  s.switchLimit = switchLimit;
  s.warpsPerBlock = block / 32;
  const size_t threads = static_cast<size_t>(grid) * block;
  s.blockArrived.assign(grid, 0);
  s.blockGeneration.assign(grid, 0);
  s.warpArrived.assign(grid * s.warpsPerBlock, 0);
  s.warpGeneration.assign(grid * s.warpsPerBlock, 0);
  s.warpLanes.assign(threads, 0);
  s.shared.assign(grid, std::vector<unsigned char>(sharedBytes, 0xff));
  s.fibers.resize(threads);
  gridDim = dim3{grid, 1, 1};
  blockDim = dim3{block, 1, 1};
  for (size_t i = 0; i < threads; ++i) {
    Fiber& f = s.fibers[i];
    f.thread = dim3{static_cast<unsigned>(i % block), 1, 1};
    f.block = dim3{static_cast<unsigned>(i / block), 1, 1};
    f.stack.resize(128 << 10);
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack.data();
    f.context.uc_stack.ss_size = f.stack.size();
    f.context.uc_link = nullptr;
    makecontext(&f.context, entry, 0);
  }
  // Blocks must not run in lockstep, or a missing barrier goes unseen: half
  // of them run at half speed, which half changing every 64 rounds, and
  // rounds alternate between ascending and descending order.
  for (size_t live = threads, round = 0; live > 0 && !s.aborted; ++round) {
    live = 0;
    for (size_t k = 0; k < threads && !s.aborted; ++k) {
      const size_t i = round % 2 == 0 ? k : threads - 1 - k;
      Fiber& f = s.fibers[i];
      if (f.done) continue;
      const bool slow = (f.block.x + round / 64) % 2 == 1;
      if (slow && round % 2 == 1) {
        ++live;
        continue;
      }
      resume(s, i);
      if (!f.done) ++live;
    }
  }
  scheduler = nullptr;
  return s.aborted ? 1 : 0;
}
