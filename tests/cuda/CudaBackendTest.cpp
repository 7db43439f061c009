//===- tests/cuda/CudaBackendTest.cpp - The CUDA backend's pieces that need no GPU -----===//
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codegen/BufferLayout.h"
#include "codegen/CudaCodegen.h"
#include "codegen/Nvrtc.h"
#include "codegen/ResourceReport.h"
#include "ir/Parser.h"
#include "runtime/Artifact.h"
#include "runtime/cuda/CudaExecutor.h"
#include "runtime/cuda/DeviceQuery.h"
#include "runtime/cuda/PlanRunner.h"

namespace cocktail {
namespace {

using namespace codegen;
using namespace runtime;
using namespace runtime::cuda;

using ::testing::HasSubstr;

TEST(ResourceReport, ParsesPtxasVerboseOutput) {
  const std::string log =
      "ptxas info    : 1 bytes gmem\n"
      "ptxas info    : Compiling entry function 'k3_loop' for 'sm_90'\n"
      "ptxas info    : Function properties for k3_loop\n"
      "ptxas         .     16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
      "ptxas info    : Used 255 registers, used 1 barriers, 2048 bytes smem, 380 bytes cmem[0]\n"
      "ptxas info    : Compiling entry function 'k0_full' for 'sm_90'\n"
      "ptxas info    : Function properties for k0_full\n"
      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 10 registers, used 0 barriers\n";
  auto kernels = parsePtxasLog(log, "sm_90");
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].kernel, "k3_loop");
  EXPECT_EQ(kernels[0].registers, 255);
  EXPECT_EQ(kernels[0].sharedBytes, 2048);
  EXPECT_EQ(kernels[0].constantBytes, 380);
  EXPECT_EQ(kernels[0].stackBytes, 16);
  EXPECT_EQ(kernels[0].spillStoreBytes, 8);
  EXPECT_EQ(kernels[0].spillLoadBytes, 12);
  EXPECT_TRUE(kernels[0].spills());
  EXPECT_EQ(kernels[1].registers, 10);
  EXPECT_FALSE(kernels[1].spills());
  kernels[0].dynamicSharedBytes = 131072;  // from KernelInfo: the launch's, which ptxas does not see
  ResourceReport report{kernels};
  EXPECT_THAT(report.table(), HasSubstr("SPILLS"));
  EXPECT_THAT(report.table(), HasSubstr("dyn smem B"));
  EXPECT_THAT(report.table(), HasSubstr("2048     131072"));
}

TEST(BufferLayout, AlignsEveryRegion) {
  BufferLayout layout;
  EXPECT_EQ(layout.place("a", 4), 0);
  EXPECT_EQ(layout.place("b", 300), 1);
  EXPECT_EQ(layout.place("empty", 0), 2);
  EXPECT_EQ(layout.region(1).offset, 256);
  EXPECT_EQ(layout.region(2).offset, 768);
  EXPECT_EQ(layout.size(), 1024);
}

TEST(Nvrtc, CompilesAKernelForEachArchAndPtxOnce) {
  const std::string source = R"(extern "C" __global__ void scale(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= 2.0f;
  })";
  auto compiled = compileWithNvrtc(source, {"sm_90", "sm_80"});
  ASSERT_TRUE(compiled.ok()) << compiled.status().str();
  EXPECT_EQ(compiled->cubins.size(), 2u);
  EXPECT_FALSE(compiled->cubins.at("sm_80").empty());
  EXPECT_EQ(compiled->ptxArch, "compute_80");
  EXPECT_THAT(compiled->ptx, HasSubstr(".entry scale"));
  ASSERT_EQ(compiled->resources.kernels.size(), 2u);
  EXPECT_GT(compiled->resources.kernels[0].registers, 0);
}

TEST(Nvrtc, RejectsAnUnknownArchAndReportsCompileErrors) {
  auto bad = compileWithNvrtc("__global__ void k() {}", {"sm90"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().str(), HasSubstr("unknown CUDA architecture 'sm90'"));
  auto broken = compileWithNvrtc("__global__ void k() { undefined_thing(); }", {"sm_80"});
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().str(), HasSubstr("undefined_thing"));
}

TEST(DeviceQuery, AnswersWithoutCrashing) {
  // CI has no GPU: the answer must say why. A GPU machine names its device.
  DeviceAvailability d = queryCudaDevice();
  EXPECT_FALSE(d.description.empty());
  if (!d.available) {
    EXPECT_THAT(d.description, HasSubstr("no GPU"));
  }
}

TEST(CudaCodegen, ResidentWeightsLiveInSharedMemoryAndTheLaunchAsksForIt) {
  // @w's rows for one tile (32 x 1024 floats) are staged per block; the
  // launch must ask for those bytes, and ptxas must see no spill.
  auto program = ir::parseProgram(R"(symbol T <= 16
weight @w : f32[1024,1024]
func @forward(%h0: f32[1,1024], %xs: f32[T,1,1024]) -> (f32[1,1024]) {
  %w = weight {name = "w"} : f32[1024,1024]
  %true = constant true : i1
  %zero = constant 0 : i64
  %steps = size(%xs, %zero) : i64
  %hn = loop(%steps, %true, %h0) {placement = "persistent", resident = "@w"} : f32[1,1024] {
  ^(%i: i64, %h: f32[1,1024]):
    %y = linear(%h, %w) {sync = "none", tile_elems = 32, tiles = 32} : f32[1,1024]
    %t = tanh(%y) {sync = "barrier", tile_elems = 32, tiles = 32} : f32[1,1024]
    yield(%true, %t)
  }
  return(%hn)
}
)",
                                  "resident.ir");
  ASSERT_TRUE(program.ok()) << program.status().str();
  auto module = generateCuda(**program);
  ASSERT_TRUE(module.ok()) << module.status().str();
  ASSERT_EQ(module->plan.kernels[0].kind, KernelInfo::Kind::Persistent);
  EXPECT_EQ(module->plan.kernels[0].sharedBytes, 32 * 1024 * 4);
  EXPECT_EQ(module->plan.kernels[1].sharedBytes, 0);  // the outputs' copy
  auto compiled = compileWithNvrtc(module->source, {"sm_80", "sm_90"});
  ASSERT_TRUE(compiled.ok()) << compiled.status().str();
  for (const KernelResources& k : compiled->resources.kernels) EXPECT_FALSE(k.spills()) << k.kernel << " " << k.arch;
}

TEST(CudaCodegen, GathersAndDeviceChecksCompileWithNvrtc) {
  // The FileCheck programs of the gathers and of the checks in a persistent
  // loop: NVRTC takes them for both archs, without a spill.
  for (const char* name : {"gathers", "device-checks"}) {
    SCOPED_TRACE(name);
    std::ifstream in(fmt::format("{}/{}.ir", COCKTAIL_CUDA_TEST_DIR, name));
    std::stringstream text;
    text << in.rdbuf();
    auto program = ir::parseProgram(text.str(), name);
    ASSERT_TRUE(program.ok()) << program.status().str();
    auto module = generateCuda(**program);
    ASSERT_TRUE(module.ok()) << module.status().str();
    EXPECT_FALSE(module->plan.checks.empty());
    auto compiled = compileWithNvrtc(module->source, {"sm_80", "sm_90"});
    ASSERT_TRUE(compiled.ok()) << compiled.status().str();
    for (const KernelResources& k : compiled->resources.kernels) EXPECT_FALSE(k.spills()) << k.kernel << " " << k.arch;
  }
}

/// A device whose "kernels" only set the device error word, as a failing
/// check would: what the host makes of the word, without running the code.
class ErrorWordDevice : public KernelDevice {
 public:
  ErrorWordDevice(const CudaPlan& plan, int64_t word0, int64_t value, int64_t size)
      : plan_(plan), arena_(static_cast<size_t>(plan.arenaBytes)), word_{word0, value, size} {}
  std::string description() const override { return "error-word device"; }
  char* arena() override { return arena_.data(); }
  ir::Status write(int64_t offset, const void* src, int64_t bytes) override {
    std::memcpy(arena_.data() + offset, src, static_cast<size_t>(bytes));
    return ir::Status::success();
  }
  ir::Status read(int64_t offset, void* dst, int64_t bytes) override {
    std::memcpy(dst, arena_.data() + offset, static_cast<size_t>(bytes));
    return ir::Status::success();
  }
  ir::Status launch(const KernelInfo&, int64_t, const std::vector<char>&) override {
    ++launches;
    std::memcpy(arena_.data() + plan_.errorOffset, word_, sizeof word_);
    return ir::Status::success();
  }
  int launches = 0;

 private:
  const CudaPlan& plan_;
  std::vector<char> arena_;
  int64_t word_[3];
};

TEST(PlanRunner, ReportsTheCheckTheDeviceErrorWordNames) {
  std::ifstream in(fmt::format("{}/device-checks.ir", COCKTAIL_CUDA_TEST_DIR));
  std::stringstream text;
  text << in.rdbuf();
  auto program = ir::parseProgram(text.str(), "device-checks.ir");
  ASSERT_TRUE(program.ok()) << program.status().str();
  auto module = generateCuda(**program);
  ASSERT_TRUE(module.ok()) << module.status().str();
  const CudaPlan& plan = module->plan;
  ASSERT_EQ(plan.checks.size(), 3u);
  const std::vector<RuntimeValue> inputs = {RuntimeValue(Tensor::empty(ir::DType::F32, {16, 8})),
                                            RuntimeValue(Tensor::empty(ir::DType::I64, {16})), RuntimeValue(int64_t{3}),
                                            RuntimeValue(1.0), RuntimeValue(false)};
  auto runWith = [&](int64_t word0, int64_t value, int64_t size) {
    ErrorWordDevice device(plan, word0, value, size);
    PlanRunner runner(plan, **program, device);
    EXPECT_TRUE(runner.prepare().ok());
    auto out = runner.run(inputs);
    // The host branch after the loop kernel reads a slot: the failure stops it first.
    EXPECT_EQ(device.launches, 1);
    return out.ok() ? ir::Status::success() : out.status();
  };
  // Check 1, the raise in the loop (the generation in the upper half is the device's business).
  ir::Status raised = runWith((int64_t{7} << 32) | 2, 0, 0);
  ASSERT_FALSE(raised.ok());
  EXPECT_EQ(raised.kind(), ir::ErrorKind::User);
  EXPECT_EQ(raised.str(), "tree.py:8: error: in 'raise': the state grew past the limit");
  // Check 0, the index_select: the value and the size come from the word.
  ir::Status index = runWith(1, -3, 16);
  EXPECT_EQ(index.kind(), ir::ErrorKind::User);
  EXPECT_EQ(
      index.str(),
      "tree.py:5: error: in 'index_select': index_select: index -3 is out of bounds for dimension 0 with size 16");
  // A word naming no check is the device's fault, not the input's.
  ir::Status corrupt = runWith(99, 0, 0);
  EXPECT_EQ(corrupt.kind(), ir::ErrorKind::Internal);
  EXPECT_THAT(corrupt.str(), HasSubstr("the device error word names check 99 of 3"));
}

TEST(CudaCodegen, GeneratedModuleCompilesAndTheArtifactKeepsIt) {
  auto program = ir::parseProgram(R"(func @forward(%x: f32[4,64]) -> (f32[4,64]) {
  %y = tanh(%x) {sync = "none", tile_elems = 128, tiles = 2} : f32[4,64]
  return(%y)
}
)",
                                  "test.ir");
  ASSERT_TRUE(program.ok()) << program.status().str();
  auto module = generateCuda(**program);
  ASSERT_TRUE(module.ok()) << module.status().str();
  ASSERT_EQ(module->plan.kernels.size(), 2u);  // the tanh, the outputs
  EXPECT_EQ(module->plan.kernels[0].tiles, 2);
  EXPECT_EQ(module->plan.kernels[0].blockThreads, kBlockThreads);
  EXPECT_EQ(module->plan.steps.size(), 2u);
  ASSERT_EQ(module->plan.outputs.size(), 1u);
  EXPECT_EQ(module->plan.outputs[0].rank, 2);
  auto compiled = compileWithNvrtc(module->source, {"sm_80"});
  ASSERT_TRUE(compiled.ok()) << compiled.status().str();

  Artifact a;
  a.target = "cuda";
  a.program = std::shared_ptr<ir::Program>(std::move(*program));
  a.code.push_back(
      {"cuda", module->source, {{"sm_80", compiled->cubins.at("sm_80")}, {"ptx", compiled->ptx}}, module->plan});
  auto loaded = deserializeArtifact(serializeArtifact(a), "test.cocktail");
  ASSERT_TRUE(loaded.ok()) << loaded.status().str();
  const TargetCode* code = loaded->codeFor("cuda");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->source, module->source);
  EXPECT_EQ(code->binaries.at("sm_80"), compiled->cubins.at("sm_80"));
  EXPECT_EQ(code->cudaPlan, module->plan);

  a.code.clear();  // a CUDA artifact without its code is refused
  auto refused = deserializeArtifact(serializeArtifact(a), "test.cocktail");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().str(), HasSubstr("holds no code"));
}

TEST(CudaExecutor, RunsOnTheGpuOrSaysThereIsNone) {
  auto program = ir::parseProgram(R"(symbol N <= 1000
func @forward(%x: f32[N,3]) -> (f32[N,3]) {
  %y = tanh(%x) {sync = "none", tile_elems = 1500, tiles = 2} : f32[N,3]
  return(%y)
}
)",
                                  "test.ir");
  ASSERT_TRUE(program.ok()) << program.status().str();
  auto module = generateCuda(**program);
  ASSERT_TRUE(module.ok()) << module.status().str();
  auto compiled = compileWithNvrtc(module->source, {"sm_80", "sm_90"});
  ASSERT_TRUE(compiled.ok()) << compiled.status().str();
  Artifact a;
  a.target = "cuda";
  a.program = std::shared_ptr<ir::Program>(std::move(*program));
  a.code.push_back({"cuda", module->source, compiled->cubins, module->plan});
  a.code.back().binaries["ptx"] = compiled->ptx;
  auto executor = createCudaExecutor(a);
  if (!queryCudaDevice().available) {
    // CI: a clear refusal, no crash.
    ASSERT_FALSE(executor.ok());
    EXPECT_THAT(executor.status().str(), HasSubstr("no GPU"));
    return;
  }
  // A GPU machine: the kernels run and agree with the host.
  ASSERT_TRUE(executor.ok()) << executor.status().str();
  Tensor x = Tensor::empty(ir::DType::F32, {7, 3});
  for (int64_t i = 0; i < 21; ++i) x.data<float>()[i] = 0.1f * static_cast<float>(i) - 1.0f;
  auto out = (*executor)->run({RuntimeValue(x)});
  ASSERT_TRUE(out.ok()) << out.status().str();
  const Tensor& y = std::get<Tensor>((*out)[0]);
  ASSERT_EQ(y.shape(), (Shape{7, 3}));
  for (int64_t i = 0; i < 21; ++i) EXPECT_NEAR(y.data<float>()[i], std::tanh(x.data<float>()[i]), 1e-6);
}

}  // namespace
}  // namespace cocktail
