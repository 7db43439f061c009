//===- tests/cuda_emu/EmuCountersTest.cpp - The perf report's counts on tiny kernels -------===//
//
// Hand-written kernels, compiled with the generator's prelude against
// cuda_emu.h with COCKTAIL_PERF_COUNTERS, whose counts are known exactly:
// sectors of coalesced, strided and divergent warp accesses, a shared-memory
// access with every lane in one bank, N grid barriers, flops.
//
//===----------------------------------------------------------------------===//
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "codegen/DevicePrelude.h"
#include "tests/cuda_emu/EmuDevice.h"
#include "tests/cuda_emu/PerfReport.h"

namespace cocktail::cuda_emu {
namespace {

using runtime::cuda::CudaPlan;
using runtime::cuda::KernelInfo;

constexpr unsigned kBlocks = 2, kThreads = 64;  // 4 warps

/// One kernel `k` whose body is `body` (arena A, shared memory smem, barrier B), launched on 2 x 64 threads.
KernelCounts countsOf(const std::string& body, int64_t sharedBytes = 0) {
  const std::string source = std::string(codegen::devicePrelude()) +
                             "struct Frame { char* arena; };\n"
                             "__global__ void k(const Frame f) {\n"
                             "  char* const A = f.arena;\n"
                             "  unsigned int* const barrier = (unsigned int*)(A + 65536);\n"
                             "  COCKTAIL_DYNAMIC_SHARED(smem);\n  (void)smem; (void)barrier;\n" +
                             body +
                             "\n}\n"
                             "extern \"C\" void cocktail_emu_k(const void* frame) { k(*(const Frame*)frame); }\n";
  CudaPlan plan;
  KernelInfo kernel;
  kernel.name = "k";
  kernel.kind = KernelInfo::Kind::Persistent;
  kernel.sharedBytes = sharedBytes;
  plan.kernels.push_back(kernel);
  plan.arenaBytes = 65536 + 16;
  EmuOptions options;
  options.persistentBlocks = kBlocks;
  options.blockThreads = kThreads;
  options.countPerformance = true;
  auto device = EmuDevice::create(plan, source, options);
  EXPECT_TRUE(device.ok()) << (device.ok() ? "" : device.status().diagnostics().front().str());
  if (!device.ok()) return {};
  std::vector<char> zero(16, 0);
  EXPECT_TRUE((*device)->write(65536, zero.data(), 16).ok());
  char* arena = (*device)->arena();
  std::vector<char> frame(sizeof(char*));
  std::memcpy(frame.data(), &arena, sizeof arena);
  EXPECT_TRUE((*device)->launch(kernel, 0, frame).ok());
  EXPECT_EQ((*device)->counts().size(), 1u);
  return (*device)->counts().empty() ? KernelCounts{} : (*device)->counts().front().second;
}

constexpr const char* kThread = "const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;\n";

TEST(EmuCounters, ACoalescedWarpStoreTouchesFourSectors) {
  const auto t = total(countsOf(std::string(kThread) + "((float*)A)[i] = 1.0f;"));
  EXPECT_EQ(t.storeRequests, 4u);  // one per warp
  EXPECT_EQ(t.storeSectors, 16u);  // 32 lanes x 4 bytes = 128 bytes = 4 sectors
  EXPECT_EQ(t.storeBytes, 512u);
  EXPECT_EQ(t.uniqueSectors, 16u);
  EXPECT_EQ(t.loadRequests, 0u);
}

TEST(EmuCounters, AStridedWarpLoadTouchesASectorPerLane) {
  // A float every 32 bytes: each lane its own sector, 8x the traffic of a coalesced load.
  const auto t = total(countsOf(std::string(kThread) + "((float*)A)[8192 + i] = ((float*)A)[i * 8];"));
  EXPECT_EQ(t.loadRequests, 4u);
  EXPECT_EQ(t.loadSectors, 128u);
  EXPECT_EQ(t.loadBytes, 512u);
  EXPECT_EQ(t.loadUsefulBytes, 512u);
  EXPECT_EQ(t.storeSectors, 16u);
}

TEST(EmuCounters, LanesReadingOneAddressShareASector) {
  const auto t = total(countsOf(std::string(kThread) + "((float*)A)[64 + i] = ((float*)A)[blockIdx.x];"));
  EXPECT_EQ(t.loadRequests, 4u);
  EXPECT_EQ(t.loadSectors, 4u);
  EXPECT_EQ(t.loadBytes, 512u);       // 32 lanes x 4 bytes asked for ...
  EXPECT_EQ(t.loadUsefulBytes, 16u);  // ... of one address per warp
  EXPECT_EQ(t.storeUsefulBytes, 512u);
}

TEST(EmuCounters, LanesThatSkipABranchDoNotJoinTheAccess) {
  const auto t = total(countsOf(std::string(kThread) + "if ((threadIdx.x & 31) == 0) ((float*)A)[i] = 2.0f;\n"
                                                       "((float*)A)[i] += 1.0f;"));
  // Lane 0's store: 1 sector per warp; then every lane's load and store: 4 each.
  EXPECT_EQ(t.storeRequests, 8u);
  EXPECT_EQ(t.storeSectors, 4u * 1 + 4u * 4);
  EXPECT_EQ(t.loadSectors, 16u);
  EXPECT_EQ(t.uniqueSectors, 16u);  // the same 16 sectors, read and written three times
}

TEST(EmuCounters, SharedMemoryInOneBankTakesAPassPerLane) {
  const auto t = total(countsOf(std::string(kThread) +
                                    "float* const s = (float*)smem;\n"
                                    "s[threadIdx.x * 32] = 1.0f;\n"  // every lane bank 0: 32 passes
                                    "s[threadIdx.x] = 2.0f;\n"       // a bank per lane: 1 pass
                                    "__syncthreads();\n"
                                    "((float*)A)[i] = s[0];",        // one word for all: a broadcast
                                32 * kThreads * 4));
  EXPECT_EQ(t.sharedRequests, 12u);
  EXPECT_EQ(t.sharedWavefronts, 4u * 32 + 4u * 1 + 4u * 1);
  EXPECT_EQ(t.sharedIdealWavefronts, 12u);
}

TEST(EmuCounters, EveryGridBarrierEndsAStage) {
  const KernelCounts c = countsOf(std::string(kThread) +
                                  "for (int step = 0; step < 5; ++step) {\n"
                                  "  ((float*)A)[i] = (float)step;\n"
                                  "  cocktail_grid_sync(barrier);\n"
                                  "}\n");
  ASSERT_EQ(c.stages.size(), 6u);  // 5 barriers
  EXPECT_EQ(c.stagesPerLaunch, std::vector<size_t>{6});
  // The same sectors in every stage: each stage reads them from DRAM again.
  for (int s = 0; s < 5; ++s) {
    EXPECT_EQ(c.stages[s].storeSectors, 16u) << "stage " << s;
    EXPECT_EQ(c.stages[s].uniqueSectors, 16u) << "stage " << s;
  }
  EXPECT_EQ(c.stages[5].storeSectors, 0u);
  // The barrier's own words (volatile and atomic) are syncs, not traffic.
  EXPECT_EQ(total(c).loadRequests, 0u);
}

TEST(EmuCounters, FlopsAreCountedPerThreadAndTileWaitsPerBlock) {
  const KernelCounts c = countsOf(std::string(kThread) +
                                  "for (int k = 0; k < 3; ++k) COCKTAIL_COUNT_FLOPS(2);\n"
                                  "unsigned int* const counters = barrier + 2;\n"
                                  "if (blockIdx.x == 0) cocktail_publish_tile(counters, 1u);\n"
                                  "else cocktail_wait_tiles(counters, 0, 0, 1u);\n");
  EXPECT_EQ(total(c).flops, 6u * kBlocks * kThreads);
  EXPECT_EQ(total(c).tileWaits, 1u);
}

TEST(EmuCounters, TheEstimateIsTheSlowestOfDramL2AndFlopsPerStagePlusLatencies) {
  KernelCounts c;
  c.launches = 1;
  c.stagesPerLaunch = {2};
  c.stages.resize(3);
  c.stages[0].uniqueSectors = 1'000'000;  // 32 MB from DRAM
  c.stages[0].loadSectors = 2'000'000;    // 64 MB through L2
  c.stages[1].flops = 1'000'000'000;
  c.stages[2].uniqueSectors = c.stages[2].loadSectors = 1'000'000;
  GpuModel g{"test", 32e9, 32e9, 1e12, 1e-3, 0, 1e-2, 132};
  // 2 ms of L2 traffic, 1 ms of flops, 1 ms of DRAM, 2 barriers of 1 ms, 10 ms for the launch.
  EXPECT_NEAR(estimateSeconds(c, g), 16e-3, 1e-9);
}

TEST(EmuCounters, WithoutCountingTheModuleIsNotInstrumented) {
  CudaPlan plan;
  KernelInfo kernel;
  kernel.name = "k";
  plan.kernels.push_back(kernel);
  plan.arenaBytes = 256;
  const std::string source = std::string(codegen::devicePrelude()) +
                             "__global__ void k(const char* a) {}\n"
                             "extern \"C\" void cocktail_emu_k(const void* frame) { k(nullptr); }\n";
  auto device = EmuDevice::create(plan, source, EmuOptions{});
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE((*device)->launch(kernel, 1, std::vector<char>(8)).ok());
  EXPECT_TRUE((*device)->counts().empty());
}

}  // namespace
}  // namespace cocktail::cuda_emu
