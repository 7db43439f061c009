//===- passes/TargetModel.h - What the scheduling passes know of a target -----------===//
//
// A handful of numbers per target, enough for the decisions the scheduling
// passes make (where a loop runs, how an op is split, what stays on chip).
// They are round figures for the class of machine, not measurements: the
// passes need the ratios between launch, barrier and work, not exact times.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>

namespace cocktail::passes {

struct TargetModel {
  std::string name;
  /// Workers that run uTasks side by side: CPU threads, GPU thread blocks.
  int workers = 1;
  /// Host cost of starting one uOperator from the host (a kernel launch, a
  /// wake-up of the worker pool), in microseconds.
  double launchUs = 0;
  /// Cost of a grid-wide barrier inside a persistent region, in microseconds.
  double barrierUs = 0;
  /// Memory bandwidth and arithmetic throughput for the work estimates.
  double bytesPerUs = 0;
  double flopsPerUs = 0;
  /// Bytes that can stay on chip across loop iterations: what one worker
  /// keeps (its private cache; a GPU block's shared memory), times workers.
  int64_t onChipBytes = 0;
  int64_t onChipBytesPerWorker = 0;
  /// Smallest uTask worth a worker: fewer elements are not split further.
  int64_t minTileElements = 0;
  /// Alignment of every planned buffer: a cache line for the vector kernels,
  /// a 256-byte segment for coalesced GPU loads.
  int64_t memoryAlignment = 64;
  /// Whether the kernels read a strided view (a transpose, a broadcast, a
  /// column) in place through its strides, as the CUDA generator's index
  /// math does. The CPU kernels take dense tensors and copy such a view, so
  /// there it needs bytes of its own in the plan (not the heap every step).
  bool readsStridedViews = false;

  /// Two CPU workers (this project's reference machine), private L2 caches.
  static TargetModel cpu();
  /// One large GPU (an H100/H200 class part: 132 SMs). A worker's on-chip
  /// bytes are the dynamic shared memory one block of a persistent kernel
  /// may use: 160 KiB, under sm_80's opt-in limit of 163 KiB per block (and
  /// so under sm_90's 227 KiB), so that one budget serves both archs. Weights
  /// are not kept in registers, so the register file does not count.
  static TargetModel cuda();
};

inline TargetModel TargetModel::cpu() {
  return {"cpu", 2, 3.0, 0.5, 20'000, 100'000, int64_t{2} * (2 << 20), 2 << 20, 8192, 64, false};
}

inline TargetModel TargetModel::cuda() {
  return {"cuda", 132, 5.0, 1.5, 3'000'000, 50'000'000, int64_t{132} * (160 << 10), 160 << 10, 1024, 256, true};
}

}  // namespace cocktail::passes
