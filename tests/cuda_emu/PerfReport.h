//===- tests/cuda_emu/PerfReport.h - The emulator's counts, and what they suggest on a GPU -===//
//
// cuda-emu-run --perf-report: per kernel, the counts of its emulated
// launches (EmuDevice with countPerformance) and a roofline ESTIMATE of its
// time on a GPU described by a few published figures. Each stage (the work
// between two grid barriers) takes the longer of its DRAM traffic at the
// memory bandwidth and its flops at the FP32 peak; each grid barrier, tile
// wait and launch adds a fixed latency. Caches are not modelled: every
// sector a warp touches counts as DRAM traffic.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tests/cuda_emu/EmuDevice.h"

namespace cocktail::cuda_emu {

/// A GPU as the roofline sees it.
struct GpuModel {
  std::string name;
  double bytesPerSecond;     // DRAM bandwidth
  double l2BytesPerSecond;   // L2 bandwidth
  double flopsPerSecond;     // FP32, no tensor cores
  double barrierSeconds;     // one grid-wide barrier of a persistent kernel
  double tileWaitSeconds;    // one counter wait (a round trip through L2)
  double launchSeconds;      // one kernel launch
  int blocks;                // blocks of a persistent launch (one per SM)
};

/// NVIDIA H100 SXM: HBM3 3.35 TB/s, 67 TFLOP/s FP32, 132 SMs; L2 about 5.5 TB/s.
GpuModel h100();
/// NVIDIA H200: the same chip with HBM3e at 4.8 TB/s.
GpuModel h200();

/// The estimated time of all of a kernel's launches on `gpu`, in seconds.
double estimateSeconds(const KernelCounts& counts, const GpuModel& gpu);

/// The counts summed over a kernel's stages.
cocktail_emu::PerfStage total(const KernelCounts& counts);

/// The report's table: a row per kernel and a total, with the estimates for `gpus`.
std::string perfReportText(const std::vector<std::pair<std::string, KernelCounts>>& kernels,
                           const std::vector<GpuModel>& gpus);

/// The same as JSON, with every stage's DRAM bytes, L2 bytes and flops, for
/// bench/emu-estimate to fit its latencies against measured times.
std::string perfReportJson(const std::vector<std::pair<std::string, KernelCounts>>& kernels,
                           const std::vector<GpuModel>& gpus);

}  // namespace cocktail::cuda_emu
