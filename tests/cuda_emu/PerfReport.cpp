//===- tests/cuda_emu/PerfReport.cpp ---------------------------------------------------===//
#include "tests/cuda_emu/PerfReport.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cocktail::cuda_emu {

namespace {

constexpr double kSectorBytes = 32;

// Latencies, before any calibration (bench/emu-estimate fits them to
// measured times): a grid barrier is two block barriers around 132 atomics
// on one L2 word and a spin on another, about what cooperative groups'
// grid.sync() is measured at (1-3 us); a counter wait is one L2 round trip
// after the producer's fence; a launch is the CUDA runtime's few
// microseconds between dependent kernels.
constexpr double kBarrierSeconds = 2e-6, kTileWaitSeconds = 1e-6, kLaunchSeconds = 5e-6;

// L2: Chips and Cheese measured about 5.5 TB/s on an H100 (PCIe, 2023);
// the H200 has the same chip and cache.
constexpr double kL2BytesPerSecond = 5.5e12;

uint64_t dramBytes(const cocktail_emu::PerfStage& s) { return s.uniqueSectors * 32; }
uint64_t l2Bytes(const cocktail_emu::PerfStage& s) { return (s.loadSectors + s.storeSectors) * 32; }

}  // namespace

GpuModel h100() { return {"H100", 3.35e12, kL2BytesPerSecond, 67e12, kBarrierSeconds, kTileWaitSeconds, kLaunchSeconds, 132}; }
GpuModel h200() { return {"H200", 4.8e12, kL2BytesPerSecond, 67e12, kBarrierSeconds, kTileWaitSeconds, kLaunchSeconds, 132}; }

cocktail_emu::PerfStage total(const KernelCounts& counts) {
  cocktail_emu::PerfStage t;
  for (const cocktail_emu::PerfStage& s : counts.stages) {
    t.loadRequests += s.loadRequests;
    t.loadSectors += s.loadSectors;
    t.loadBytes += s.loadBytes;
    t.loadUsefulBytes += s.loadUsefulBytes;
    t.storeRequests += s.storeRequests;
    t.storeSectors += s.storeSectors;
    t.storeBytes += s.storeBytes;
    t.storeUsefulBytes += s.storeUsefulBytes;
    t.uniqueSectors += s.uniqueSectors;
    t.sharedRequests += s.sharedRequests;
    t.sharedWavefronts += s.sharedWavefronts;
    t.sharedIdealWavefronts += s.sharedIdealWavefronts;
    t.tileWaits += s.tileWaits;
    t.flops += s.flops;
  }
  return t;
}

double estimateSeconds(const KernelCounts& counts, const GpuModel& gpu) {
  double seconds = static_cast<double>(counts.launches) * gpu.launchSeconds;
  for (const cocktail_emu::PerfStage& s : counts.stages)
    seconds += std::max({static_cast<double>(dramBytes(s)) / gpu.bytesPerSecond,
                         static_cast<double>(l2Bytes(s)) / gpu.l2BytesPerSecond,
                         static_cast<double>(s.flops) / gpu.flopsPerSecond});
  const size_t barriers = counts.stages.size() - counts.stagesPerLaunch.size();
  seconds += static_cast<double>(barriers) * gpu.barrierSeconds;
  // Consumer tasks wait side by side, one block per SM.
  seconds += static_cast<double>(total(counts).tileWaits) / gpu.blocks * gpu.tileWaitSeconds;
  return seconds;
}

std::string perfReportText(const std::vector<std::pair<std::string, KernelCounts>>& kernels,
                           const std::vector<GpuModel>& gpus) {
  std::string out =
      "perf report: counts from the emulated run; the times are ESTIMATES (a roofline of the counts, not a "
      "measurement)\n";
  out += fmt::format("{:<22} {:>8} {:>8} {:>8} {:>10} {:>10} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}", "kernel",
                     "launches", "barriers", "waits", "ld sectors", "st sectors", "coal%", "L2 MB", "DRAM MB",
                     "smem req", "smem conf", "MFLOP");
  for (const GpuModel& g : gpus) out += fmt::format(" {:>10}", "est " + g.name + " ms");
  out += "\n";
  KernelCounts all;
  auto row = [&](const std::string& name, const KernelCounts& c) {
    const cocktail_emu::PerfStage t = total(c);
    const uint64_t sectors = t.loadSectors + t.storeSectors;
    const double coalesced = sectors ? 100.0 * static_cast<double>(t.loadUsefulBytes + t.storeUsefulBytes) /
                                           (static_cast<double>(sectors) * kSectorBytes)
                                     : 100.0;
    std::string r = fmt::format("{:<22} {:>8} {:>8} {:>8} {:>10} {:>10} {:>6.1f} {:>9.3f} {:>9.3f} {:>9} {:>9} {:>9.3f}",
                                name, c.launches, c.stages.size() - c.stagesPerLaunch.size(), t.tileWaits,
                                t.loadSectors, t.storeSectors, coalesced,
                                static_cast<double>(sectors) * kSectorBytes / 1e6,
                                static_cast<double>(t.uniqueSectors) * kSectorBytes / 1e6, t.sharedRequests,
                                t.sharedWavefronts - t.sharedIdealWavefronts, static_cast<double>(t.flops) / 1e6);
    for (const GpuModel& g : gpus) r += fmt::format(" {:>10.4f}", estimateSeconds(c, g) * 1e3);
    return r + "\n";
  };
  for (const auto& [name, c] : kernels) {
    out += row(name, c);
    all.launches += c.launches;
    all.grids.insert(all.grids.end(), c.grids.begin(), c.grids.end());
    all.stagesPerLaunch.insert(all.stagesPerLaunch.end(), c.stagesPerLaunch.begin(), c.stagesPerLaunch.end());
    all.stages.insert(all.stages.end(), c.stages.begin(), c.stages.end());
  }
  out += row("total", all);
  out +=
      "coal%: distinct bytes the lanes asked for / bytes of the 32-byte sectors they touched. L2 MB: those sectors, "
      "every\n"
      "warp access; DRAM MB: distinct sectors per stage (a stage ends at a grid barrier). smem conf: shared-memory\n"
      "passes beyond the fewest (bank conflicts). Estimate: per stage max(DRAM bytes / DRAM bandwidth, L2 bytes /\n"
      "L2 bandwidth, flops / FP32 peak), plus per grid barrier, tile wait (/ blocks) and launch a fixed latency:\n";
  for (const GpuModel& g : gpus)
    out += fmt::format("  {}: DRAM {:.2f} TB/s, L2 {:.1f} TB/s, {:.0f} TFLOP/s, barrier {:.1f} us, wait {:.1f} us, "
                       "launch {:.1f} us\n",
                       g.name, g.bytesPerSecond / 1e12, g.l2BytesPerSecond / 1e12, g.flopsPerSecond / 1e12,
                       g.barrierSeconds * 1e6, g.tileWaitSeconds * 1e6, g.launchSeconds * 1e6);
  return out;
}

std::string perfReportJson(const std::vector<std::pair<std::string, KernelCounts>>& kernels,
                           const std::vector<GpuModel>& gpus) {
  nlohmann::json j;
  j["note"] = "counts from the emulated run; est_ms are roofline estimates, not measurements";
  for (const GpuModel& g : gpus)
    j["gpus"].push_back({{"name", g.name},
                         {"bytes_per_second", g.bytesPerSecond},
                         {"l2_bytes_per_second", g.l2BytesPerSecond},
                         {"flops_per_second", g.flopsPerSecond},
                         {"barrier_seconds", g.barrierSeconds},
                         {"tile_wait_seconds", g.tileWaitSeconds},
                         {"launch_seconds", g.launchSeconds},
                         {"blocks", g.blocks}});
  j["kernels"] = nlohmann::json::array();
  for (const auto& [name, c] : kernels) {
    const cocktail_emu::PerfStage t = total(c);
    nlohmann::json k = {{"name", name},
                        {"launches", c.launches},
                        {"grid_barriers", c.stages.size() - c.stagesPerLaunch.size()},
                        {"tile_waits", t.tileWaits},
                        {"load_requests", t.loadRequests},
                        {"load_sectors", t.loadSectors},
                        {"load_bytes", t.loadBytes},
                        {"load_useful_bytes", t.loadUsefulBytes},
                        {"store_requests", t.storeRequests},
                        {"store_sectors", t.storeSectors},
                        {"store_bytes", t.storeBytes},
                        {"store_useful_bytes", t.storeUsefulBytes},
                        {"unique_sectors", t.uniqueSectors},
                        {"shared_requests", t.sharedRequests},
                        {"shared_wavefronts", t.sharedWavefronts},
                        {"shared_ideal_wavefronts", t.sharedIdealWavefronts},
                        {"flops", t.flops}};
    nlohmann::json stages = nlohmann::json::array();
    for (const cocktail_emu::PerfStage& s : c.stages) stages.push_back({dramBytes(s), l2Bytes(s), s.flops});
    k["stages_dram_l2_bytes_flops"] = stages;
    for (const GpuModel& g : gpus) k["est_ms"][g.name] = estimateSeconds(c, g) * 1e3;
    j["kernels"].push_back(k);
  }
  return j.dump(1);
}

}  // namespace cocktail::cuda_emu
