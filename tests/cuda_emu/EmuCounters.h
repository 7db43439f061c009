//===- tests/cuda_emu/EmuCounters.h - What an emulated launch counts, per stage ------------===//
//
// The record the emulated module (cuda_emu.h, built with
// COCKTAIL_PERF_COUNTERS) fills and the harness (EmuDevice) reads back: one
// per stage of a launch, a stage being the work between two grid barriers.
// Plain integers only, since it crosses from the module to the harness.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace cocktail_emu {

struct PerfStage {
  /// Global memory, per warp access: the access (a request), the distinct
  /// 32-byte sectors its lanes touched, the bytes they asked for, and the
  /// distinct ones among those (lanes reading one address share it): what
  /// a perfectly coalesced access would move.
  uint64_t loadRequests = 0, loadSectors = 0, loadBytes = 0, loadUsefulBytes = 0;
  uint64_t storeRequests = 0, storeSectors = 0, storeBytes = 0, storeUsefulBytes = 0;
  /// Distinct sectors the whole grid touched in the stage: what must come
  /// from DRAM at least, if the L2 cache kept nothing from earlier stages
  /// (the sectors above count again every time a warp re-reads them).
  uint64_t uniqueSectors = 0;
  /// Shared memory, per warp access: the passes it takes (the most distinct
  /// 4-byte words any of the 32 banks serves) and the fewest it could take
  /// (its distinct words / 32); the difference is bank conflicts.
  uint64_t sharedRequests = 0, sharedWavefronts = 0, sharedIdealWavefronts = 0;
  /// Per-tile counter waits (one per waiting block and consumer task).
  uint64_t tileWaits = 0;
  /// Floating-point operations the threads did (a multiply-add is 2).
  uint64_t flops = 0;
};

}  // namespace cocktail_emu
