//===- runtime/cpu/WorkerPool.h - The CPU's thread blocks ---------------------------===//
//
// A fixed pool of workers that play the role of a GPU's thread blocks: a
// uOperator's tiles are spread over them and the caller works as one of
// them. Workers spin briefly and then sleep on a condition variable
// between uOperators, so a split costs a few microseconds, not a thread
// start; at batch 1 that is what makes splitting a 1 MiB GEMV worth it.
//
// One pool per process, sized from COCKTAIL_NUM_THREADS, else the machine's
// hardware threads; setNumWorkers changes it (cocktail-bench tries 1 and 2).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>

namespace cocktail::runtime::cpu {

/// Runs f(begin, end) over [0, n) split into at most numWorkers() contiguous
/// chunks of at least minChunk, in parallel; returns when all are done. Runs
/// inline when one chunk suffices, when called from inside a worker, or when
/// another thread's parallelFor holds the workers (concurrent callers, such
/// as a server's instances, run side by side instead of taking turns).
void parallelFor(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& f);

int numWorkers();
/// Resizes the pool (n clamped to [1, 1024]). Not to be called while a parallelFor runs.
void setNumWorkers(int n);

}  // namespace cocktail::runtime::cpu
