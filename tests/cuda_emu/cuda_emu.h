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
// With COCKTAIL_PERF_COUNTERS (cuda-emu-run --perf-report) the module is
// also compiled with -fsanitize=thread, and the __tsan_* calls GCC puts at
// every load and store land here instead of in a race detector: each access
// to the arena or to shared memory is grouped with the other lanes of its
// warp (the same instruction, the same time since the warp's last barrier)
// into one warp access, which counts its 32-byte sectors or its bank
// conflicts. The prelude's counting hooks (COCKTAIL_COUNT_*) count grid
// barriers, tile waits and flops. Without the define nothing is counted and
// nothing costs: the generated text is the same either way.
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

#ifdef COCKTAIL_PERF_COUNTERS
#include <algorithm>

#include "EmuCounters.h"
#endif

// The harness's own code is not counted (in a counting build, GCC would
// instrument its loads and stores too).
#define COCKTAIL_EMU_UNCOUNTED __attribute__((no_sanitize_thread))

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
  bool inFiber = false;  // a CUDA thread runs, not the scheduler
  void (*kernel)(const void*) = nullptr;
  const void* frame = nullptr;
};

inline Scheduler* scheduler = nullptr;

#ifdef COCKTAIL_PERF_COUNTERS
inline void laneArrives();
inline void laneFinished();
#endif

}  // namespace cocktail_emu

// The built-in variables: the scheduler sets them for the fiber it resumes.
inline dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace cocktail_emu {

/// Back to the scheduler; it resumes the next fiber.
COCKTAIL_EMU_UNCOUNTED inline void yield() {
  Scheduler& s = *scheduler;
  if (++s.switches > s.switchLimit) s.aborted = true;
  if (!_setjmp(s.fibers[s.current].jump)) _longjmp(s.mainJump, 1);
}

COCKTAIL_EMU_UNCOUNTED inline size_t threadIndex() { return blockIdx.x * blockDim.x + threadIdx.x; }

/// Waits until all `count` participants of barrier `i` have arrived.
COCKTAIL_EMU_UNCOUNTED inline void barrier(std::vector<unsigned>& arrived, std::vector<unsigned>& generation, size_t i,
                                           unsigned count) {
#ifdef COCKTAIL_PERF_COUNTERS
  laneArrives();  // every lane of the warp reaches each barrier
#endif
  const unsigned gen = generation[i];
  if (++arrived[i] == count) {
    arrived[i] = 0;
    ++generation[i];
    return;
  }
  while (generation[i] == gen) yield();
}

COCKTAIL_EMU_UNCOUNTED inline void entry() {
  Scheduler& s = *scheduler;
  s.kernel(s.frame);
#ifdef COCKTAIL_PERF_COUNTERS
  laneFinished();
#endif
  s.fibers[s.current].done = true;
  _longjmp(s.mainJump, 1);
}

/// Runs fiber i until it yields or finishes.
COCKTAIL_EMU_UNCOUNTED inline void resume(Scheduler& s, size_t i) {
  Fiber& f = s.fibers[i];
  s.current = i;
  threadIdx = f.thread;
  blockIdx = f.block;
  if (_setjmp(s.mainJump)) {  // back from the fiber
    s.inFiber = false;
    return;
  }
  s.inFiber = true;
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

COCKTAIL_EMU_UNCOUNTED inline void __syncthreads() {
  cocktail_emu::Scheduler& s = *cocktail_emu::scheduler;
  cocktail_emu::barrier(s.blockArrived, s.blockGeneration, blockIdx.x, blockDim.x);
}
inline void __threadfence() {}
inline void __nanosleep(unsigned) { cocktail_emu::yield(); }

template <typename T>
COCKTAIL_EMU_UNCOUNTED T __shfl_down_sync(unsigned /*mask*/, T value, int offset) {
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

COCKTAIL_EMU_UNCOUNTED inline unsigned int atomicAdd(unsigned int* p, unsigned int v) {
  const unsigned int old = *p;
  *p = old + v;
  return old;
}
COCKTAIL_EMU_UNCOUNTED inline unsigned int atomicExch(unsigned int* p, unsigned int v) {
  const unsigned int old = *p;
  *p = v;
  return old;
}
COCKTAIL_EMU_UNCOUNTED inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare,
                                                           unsigned long long v) {
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

#ifdef COCKTAIL_PERF_COUNTERS
// ---- counting (cuda-emu-run --perf-report) ----------------------------------------------------

namespace cocktail_emu {

/// One warp access: the n-th time each lane of a warp ran one load or store
/// instruction (its `site`) since the warp's last barrier. Lanes of a warp
/// run one after another here, not in lockstep, so their accesses are
/// matched up this way; a lane that skips a branch simply does not join.
/// Every lane of a warp reaches each barrier (__syncthreads, a shuffle) and
/// makes no access while it waits there, so when the last lane arrives, all
/// of the warp's pending accesses are complete.
struct WarpAccess {
  bool shared = false, store = false;
  uint64_t bytes = 0;
  std::vector<uint64_t> units;    // 32-byte sectors (global memory) or 4-byte words (shared memory) touched
  std::vector<uint64_t> offsets;  // each lane's first byte (global memory)
};
/// Per site, in a warp or a lane: its accesses since the last barrier.
struct SiteAccesses {
  uintptr_t site = 0;
  std::vector<uint32_t> accesses;  // a warp's: indices into WarpPerf::accesses, by occurrence
  uint32_t count = 0;              // a lane's: how often it ran the site
};
/// A few sites are live between two barriers; a scan from the last one
/// found finds the next in a probe or two, and nothing is allocated once
/// the vectors have grown.
struct Sites {
  std::vector<SiteAccesses> list;
  size_t live = 0, hint = 0;
  COCKTAIL_EMU_UNCOUNTED SiteAccesses& find(uintptr_t site) {
    for (size_t k = 0; k < live; ++k) {
      size_t i = hint + k < live ? hint + k : hint + k - live;
      if (list[i].site == site) return list[hint = i];
    }
    if (live == list.size()) list.emplace_back();
    SiteAccesses& fresh = list[hint = live++];
    fresh.site = site;
    fresh.accesses.clear();
    fresh.count = 0;
    return fresh;
  }
  COCKTAIL_EMU_UNCOUNTED void clear() { live = hint = 0; }
};
struct LanePerf {
  uint64_t epoch = 0;  // barriers reached
  bool done = false;
  Sites sites;
};
struct WarpPerf {
  uint64_t low = 0;     // the fewest barriers any live lane has reached
  unsigned atLow = 32;  // live lanes that have reached no more
  Sites sites;
  std::vector<WarpAccess> accesses;
  size_t live = 0;
};
struct Perf {
  bool counting = false;
  const char *arenaBegin = nullptr, *arenaEnd = nullptr;
  std::vector<PerfStage> stages;  // of the current launch; back() is the open one
  std::vector<LanePerf> lanes;    // per thread of the grid
  std::vector<WarpPerf> warps;
  std::vector<uint64_t> seen;     // a bit per sector of the arena: touched in this stage
  std::vector<size_t> seenWords;  // the words of `seen` to clear when the stage ends
};
inline Perf perf;

/// Counts the sectors `units` (sorted, distinct) that no warp touched before in this stage.
COCKTAIL_EMU_UNCOUNTED inline void countUnique(const uint64_t* units, uint64_t n, PerfStage& st) {
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t& word = perf.seen[units[i] / 64];
    const uint64_t bit = 1ull << (units[i] % 64);
    if (word & bit) continue;
    if (word == 0) perf.seenWords.push_back(units[i] / 64);
    word |= bit;
    ++st.uniqueSectors;
  }
}

/// A grid barrier: a new stage.
COCKTAIL_EMU_UNCOUNTED inline void nextStage() {
  for (size_t w : perf.seenWords) perf.seen[w] = 0;
  perf.seenWords.clear();
  perf.stages.emplace_back();
}

COCKTAIL_EMU_UNCOUNTED inline void retire(WarpAccess& w, PerfStage& st) {
  std::sort(w.units.begin(), w.units.end());
  const uint64_t distinct = static_cast<uint64_t>(std::unique(w.units.begin(), w.units.end()) - w.units.begin());
  if (w.shared) {
    unsigned perBank[32] = {};
    unsigned most = 0;
    for (uint64_t i = 0; i < distinct; ++i) most = std::max(most, ++perBank[w.units[i] % 32]);
    ++st.sharedRequests;
    st.sharedWavefronts += most;
    st.sharedIdealWavefronts += (distinct + 31) / 32;
    return;
  }
  countUnique(w.units.data(), distinct, st);
  // One instruction: every lane accesses as many bytes.
  std::sort(w.offsets.begin(), w.offsets.end());
  const uint64_t lanes = w.offsets.size(),
                 addresses = static_cast<uint64_t>(std::unique(w.offsets.begin(), w.offsets.end()) - w.offsets.begin());
  const uint64_t useful = lanes ? w.bytes / lanes * addresses : 0;
  if (w.store) {
    ++st.storeRequests;
    st.storeSectors += distinct;
    st.storeBytes += w.bytes;
    st.storeUsefulBytes += useful;
  } else {
    ++st.loadRequests;
    st.loadSectors += distinct;
    st.loadBytes += w.bytes;
    st.loadUsefulBytes += useful;
  }
}

/// A lane of `warp` reached a barrier or the end: once every live lane has,
/// the warp's pending accesses are complete and counted.
COCKTAIL_EMU_UNCOUNTED inline void laneMoved(size_t warp, uint64_t from) {
  WarpPerf& w = perf.warps[warp];
  if (from != w.low || --w.atLow > 0) return;
  for (size_t i = 0; i < w.live; ++i) retire(w.accesses[i], perf.stages.back());
  w.live = 0;
  w.sites.clear();
  w.low = UINT64_MAX;
  for (size_t i = warp * 32; i < warp * 32 + 32; ++i) {
    const LanePerf& lane = perf.lanes[i];
    if (lane.done) continue;
    if (lane.epoch < w.low) {
      w.low = lane.epoch;
      w.atLow = 0;
    }
    if (lane.epoch == w.low) ++w.atLow;
  }
}

COCKTAIL_EMU_UNCOUNTED inline void laneArrives() {
  if (!perf.counting) return;
  const size_t me = scheduler->current;
  LanePerf& lane = perf.lanes[me];
  lane.sites.clear();
  laneMoved(me / 32, lane.epoch++);
}

COCKTAIL_EMU_UNCOUNTED inline void laneFinished() {
  if (!perf.counting) return;
  const size_t me = scheduler->current;
  perf.lanes[me].done = true;
  laneMoved(me / 32, perf.lanes[me].epoch);
}

COCKTAIL_EMU_UNCOUNTED inline void countKernelAccess(const void* p, unsigned bytes, bool store, void* site) {
  Scheduler& s = *scheduler;
  const char* a = static_cast<const char*>(p);
  const std::vector<unsigned char>& block = s.shared[blockIdx.x];
  const char* sharedBegin = reinterpret_cast<const char*>(block.data());
  bool shared;
  if (a >= perf.arenaBegin && a < perf.arenaEnd)
    shared = false;
  else if (!block.empty() && a >= sharedBegin && a < sharedBegin + block.size())
    shared = true;
  else
    return;  // the thread's own stack, the launch's frame: registers and parameters on a GPU
  const uintptr_t at = reinterpret_cast<uintptr_t>(site);
  const uint32_t occurrence = perf.lanes[s.current].sites.find(at).count++;
  WarpPerf& warp = perf.warps[s.current / 32];
  std::vector<uint32_t>& accesses = warp.sites.find(at).accesses;
  if (occurrence >= accesses.size()) {  // the first lane here
    if (warp.live == warp.accesses.size()) warp.accesses.emplace_back();
    WarpAccess& fresh = warp.accesses[warp.live];
    fresh.bytes = 0;
    fresh.units.clear();
    fresh.offsets.clear();
    accesses.push_back(static_cast<uint32_t>(warp.live++));
  }
  WarpAccess& w = warp.accesses[accesses[occurrence]];
  w.shared = shared;
  w.store = store;
  w.bytes += bytes;
  // Offsets, not addresses: the arena is 256-byte aligned as cudaMalloc's
  // memory is, and shared memory starts at bank 0.
  const uint64_t offset = static_cast<uint64_t>(a - (shared ? sharedBegin : perf.arenaBegin));
  if (!shared) w.offsets.push_back(offset);
  const unsigned shift = shared ? 2 : 5;
  for (uint64_t u = offset >> shift; u <= (offset + bytes - 1) >> shift; ++u) w.units.push_back(u);
}

COCKTAIL_EMU_UNCOUNTED inline void countAccess(const void* p, unsigned bytes, bool store, void* site) {
  // What the counting itself calls (library code not inlined here) is
  // instrumented as well: those accesses are not the kernel's.
  static bool busy = false;
  if (!perf.counting || !scheduler || !scheduler->inFiber || busy) return;
  busy = true;
  countKernelAccess(p, bytes, store, site);
  busy = false;
}

}  // namespace cocktail_emu

// The prelude's hooks (codegen/DevicePrelude.cpp), empty on a GPU.
#define COCKTAIL_COUNT_GRID_BARRIER() (cocktail_emu::perf.counting ? cocktail_emu::nextStage() : (void)0)
#define COCKTAIL_COUNT_TILE_WAIT() \
  (cocktail_emu::perf.counting ? (void)++cocktail_emu::perf.stages.back().tileWaits : (void)0)
#define COCKTAIL_COUNT_FLOPS(n) \
  (cocktail_emu::perf.counting ? (void)(cocktail_emu::perf.stages.back().flops += (n)) : (void)0)

// What GCC's -fsanitize=thread calls at every load and store. Volatile
// accesses (--param tsan-distinguish-volatile=1) are the barrier, the tile
// counters and the error word, which the report counts as syncs instead.
#define COCKTAIL_EMU_ACCESS(kind, bytes, store)                                             \
  extern "C" COCKTAIL_EMU_UNCOUNTED __attribute__((noinline)) void __tsan_##kind(void* p) { \
    cocktail_emu::countAccess(p, bytes, store, __builtin_return_address(0));                \
  }
#define COCKTAIL_EMU_IGNORED(name, ...) \
  extern "C" COCKTAIL_EMU_UNCOUNTED void __tsan_##name(__VA_ARGS__) {}
COCKTAIL_EMU_ACCESS(read1, 1, false)
COCKTAIL_EMU_ACCESS(read2, 2, false)
COCKTAIL_EMU_ACCESS(read4, 4, false)
COCKTAIL_EMU_ACCESS(read8, 8, false)
COCKTAIL_EMU_ACCESS(read16, 16, false)
COCKTAIL_EMU_ACCESS(write1, 1, true)
COCKTAIL_EMU_ACCESS(write2, 2, true)
COCKTAIL_EMU_ACCESS(write4, 4, true)
COCKTAIL_EMU_ACCESS(write8, 8, true)
COCKTAIL_EMU_ACCESS(write16, 16, true)
COCKTAIL_EMU_ACCESS(unaligned_read2, 2, false)
COCKTAIL_EMU_ACCESS(unaligned_read4, 4, false)
COCKTAIL_EMU_ACCESS(unaligned_read8, 8, false)
COCKTAIL_EMU_ACCESS(unaligned_read16, 16, false)
COCKTAIL_EMU_ACCESS(unaligned_write2, 2, true)
COCKTAIL_EMU_ACCESS(unaligned_write4, 4, true)
COCKTAIL_EMU_ACCESS(unaligned_write8, 8, true)
COCKTAIL_EMU_ACCESS(unaligned_write16, 16, true)
extern "C" COCKTAIL_EMU_UNCOUNTED __attribute__((noinline)) void __tsan_read_range(void* p, unsigned long bytes) {
  if (bytes) cocktail_emu::countAccess(p, static_cast<unsigned>(bytes), false, __builtin_return_address(0));
}
extern "C" COCKTAIL_EMU_UNCOUNTED __attribute__((noinline)) void __tsan_write_range(void* p, unsigned long bytes) {
  if (bytes) cocktail_emu::countAccess(p, static_cast<unsigned>(bytes), true, __builtin_return_address(0));
}
COCKTAIL_EMU_IGNORED(init)
COCKTAIL_EMU_IGNORED(func_entry, void*)
COCKTAIL_EMU_IGNORED(func_exit)
COCKTAIL_EMU_IGNORED(volatile_read1, void*)
COCKTAIL_EMU_IGNORED(volatile_read2, void*)
COCKTAIL_EMU_IGNORED(volatile_read4, void*)
COCKTAIL_EMU_IGNORED(volatile_read8, void*)
COCKTAIL_EMU_IGNORED(volatile_read16, void*)
COCKTAIL_EMU_IGNORED(volatile_write1, void*)
COCKTAIL_EMU_IGNORED(volatile_write2, void*)
COCKTAIL_EMU_IGNORED(volatile_write4, void*)
COCKTAIL_EMU_IGNORED(volatile_write8, void*)
COCKTAIL_EMU_IGNORED(volatile_write16, void*)
COCKTAIL_EMU_IGNORED(vptr_update, void*, void*)
COCKTAIL_EMU_IGNORED(vptr_read, void*)

/// Counting for the next launches: `arena` is the device memory (what is
/// outside it and outside shared memory is a thread's own).
extern "C" void cocktail_emu_perf_begin(const void* arena, unsigned long long arenaBytes) {
  cocktail_emu::perf.arenaBegin = static_cast<const char*>(arena);
  cocktail_emu::perf.arenaEnd = static_cast<const char*>(arena) + arenaBytes;
  cocktail_emu::perf.seen.assign(arenaBytes / 32 / 64 + 1, 0);
  cocktail_emu::perf.seenWords.clear();
}

/// The stages of the last launch (valid until the next launch).
extern "C" size_t cocktail_emu_perf_stages(const cocktail_emu::PerfStage** stages) {
  *stages = cocktail_emu::perf.stages.data();
  return cocktail_emu::perf.stages.size();
}
#endif  // COCKTAIL_PERF_COUNTERS

// ---- the launcher the harness calls (dlsym) -------------------------------------------------

/// Runs `kernel` on grid x block threads, each block with `sharedBytes` of
/// dynamic shared memory; 0 on success, 1 when the switch
/// budget ran out (a deadlock, or a far longer run than any test needs).
extern "C" COCKTAIL_EMU_UNCOUNTED int cocktail_emu_launch(void (*kernel)(const void*), const void* frame, unsigned grid,
                                                          unsigned block, unsigned long long sharedBytes,
                                                          unsigned long long switchLimit) {
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
#ifdef COCKTAIL_PERF_COUNTERS
  perf.stages.assign(1, PerfStage{});
  perf.lanes.assign(threads, LanePerf{});
  perf.warps.assign(threads / 32, WarpPerf{});
  perf.counting = true;
#endif
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
#ifdef COCKTAIL_PERF_COUNTERS
  perf.counting = false;  // an aborted launch's counts are not read
  perf.lanes.clear();
  perf.warps.clear();
#endif
  scheduler = nullptr;
  return s.aborted ? 1 : 0;
}
