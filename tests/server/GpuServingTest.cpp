//===- tests/server/GpuServingTest.cpp - KIND_GPU served on the emulated CUDA device ------===//
//
// The server's GPU path end to end without a GPU: a Repository, ServiceCore
// and gRPC service in this process, given the CPU emulation harness of the
// generated CUDA (tests/cuda_emu's EmuDevice) as its GPUs through
// RepositoryOptions::gpus. Models on KIND_GPU are compiled for target cuda,
// each instance gets its own emulated device on the GPU instance_group
// places it on, and their answers, one by one and in a dynamic batch, are
// compared with the CPU path's and TorchScript's. The same repository with
// no GPU, or a GPU id past the count, leaves the model UNAVAILABLE with
// the reason while the others serve.
//
//===----------------------------------------------------------------------===//
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "driver/Compile.h"
#include "runtime/Artifact.h"
#include "server/GrpcServer.h"
#include "server/Repository.h"
#include "server/ServiceCore.h"
#include "tests/cuda_emu/EmuDevice.h"
#include "tests/server/ServerHarness.h"

namespace {

using namespace serve_harness;
using cocktail::server::GpuDevices;

/// `gpus` emulated GPUs; records which ones instances were opened on.
class EmulatedGpus final : public GpuDevices {
 public:
  explicit EmulatedGpus(int gpus) : gpus_(gpus) {}
  int count(std::string& why) override {
    if (gpus_ == 0) why = "the test's emulated machine has none";
    return gpus_;
  }
  cocktail::ir::Expected<std::unique_ptr<cocktail::runtime::cuda::KernelDevice>> open(
      const cocktail::runtime::cuda::CudaPlan& plan, const cocktail::runtime::TargetCode& code, int gpu) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      opened_.push_back(gpu);
    }
    cocktail::cuda_emu::EmuOptions options;
    options.persistentBlocks = 2;
    options.blockThreads = 32;
    auto device = cocktail::cuda_emu::EmuDevice::create(plan, code.source, options);
    if (!device) return device.status();
    return std::unique_ptr<cocktail::runtime::cuda::KernelDevice>(device.take());
  }
  /// GPU n: 1 GiB + n bytes, 1000 * (n + 1) of them used.
  std::optional<cocktail::server::GpuMemoryReading> memory(int gpu) override {
    return cocktail::server::GpuMemoryReading{"EMU-GPU-" + std::to_string(gpu), (int64_t{1} << 30) + gpu,
                                              1000 * (gpu + 1)};
  }
  std::vector<int> opened() {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_;
  }

 private:
  int gpus_;
  std::mutex mu_;
  std::vector<int> opened_;
};

/// cocktail-serve's core in this process, on a loopback port.
struct InProcessServer {
  InProcessServer(const fs::path& repo, std::vector<std::string> models, std::shared_ptr<GpuDevices> gpus) {
    metrics = std::make_unique<cocktail::server::Metrics>();
    cocktail::server::RepositoryOptions options;
    options.root = repo;
    options.mode = cocktail::server::ControlMode::Explicit;
    options.startupModels = std::move(models);
    options.cacheDir = cacheDir();
    options.gpus = std::move(gpus);
    repository = std::make_unique<cocktail::server::Repository>(options, metrics.get());
    EXPECT_TRUE(repository->loadStartupModels().ok());
    core = std::make_unique<cocktail::server::ServiceCore>(*repository);
    cocktail::server::GrpcServerOptions go;
    go.address = "127.0.0.1:0";
    grpc = std::make_unique<cocktail::server::GrpcServer>(*core, go);
    EXPECT_TRUE(grpc->start().ok());
    stub = GRPCInferenceService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc->port()), grpc::InsecureChannelCredentials()));
  }
  ~InProcessServer() {
    grpc.reset();
    repository->unloadAll();
  }
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> index() {
    grpc::ClientContext ctx;
    inference::RepositoryIndexResponse response;
    EXPECT_TRUE(stub->RepositoryIndex(&ctx, {}, &response).ok());
    std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> byName;
    for (const auto& m : response.models()) byName[m.name()] = m;
    return byName;
  }
  std::unique_ptr<cocktail::server::Metrics> metrics;  // not served: render() is the scrape
  std::unique_ptr<cocktail::server::Repository> repository;
  std::unique_ptr<cocktail::server::ServiceCore> core;
  std::unique_ptr<cocktail::server::GrpcServer> grpc;
  std::unique_ptr<GRPCInferenceService::Stub> stub;
};

/// A copy of `from`'s model.pt under `name`, with `config` as its config.pbtxt.
void addModel(const fs::path& repo, const std::string& from, const std::string& name, const std::string& config) {
  fs::create_directories(repo / name / "1");
  fs::copy_file(repo / from / "1" / "model.pt", repo / name / "1" / "model.pt", fs::copy_options::overwrite_existing);
  std::ofstream(repo / name / "config.pbtxt") << "name: \"" << name << "\"\n" << config;
}

const char* const kLoopInputs =
    "backend: \"pytorch\"\n"
    "parameters { key: \"cocktail.inputs\" value { string_value: \"xs:f32[T<=16,4] steps:i64\" } }\n";
const char* const kAddMulInputs =
    "platform: \"pytorch_libtorch\"\nmax_batch_size: 8\n"
    "parameters { key: \"cocktail.inputs\" value { string_value: \"x:f32[B<=8,4] y:f32[B,4]\" } }\n";

class GpuServing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("cocktail-gpu-serving-test-" + std::to_string(getpid()));
    fs::remove_all(root_);
    cases_ = writeRepository(root_);
    addModel(root_, "loop", "loop_gpu",
             std::string(kLoopInputs) + "instance_group [ { count: 1 kind: KIND_GPU gpus: [ 1 ] } ]\n");
    // No `gpus`: one instance on each GPU; a long delay so that concurrent requests share a run.
    addModel(root_, "addmul", "addmul_gpu",
             std::string(kAddMulInputs) +
                 "dynamic_batching { max_queue_delay_microseconds: 500000 }\n"
                 "instance_group [ { count: 1 kind: KIND_GPU } ]\n");
    addModel(root_, "loop", "loop_gpu9",
             std::string(kLoopInputs) + "instance_group [ { kind: KIND_GPU gpus: [ 9 ] } ]\n");
    // An op that runs as a TorchScript island: the CUDA generator refuses it.
    fs::create_directories(root_ / "island_gpu" / "1");
    const fs::path script = root_ / "island.py";
    std::ofstream(script) << "import sys, torch\n"
                             "class Island(torch.nn.Module):\n"
                             "    def forward(self, x: torch.Tensor):\n"
                             "        return torch.cumprod(x, 0) * 2.0\n"
                             "torch.jit.save(torch.jit.script(Island().eval()), sys.argv[1])\n";
    const std::string cmd = std::string(COCKTAIL_PYTHON_BINARY) + " " + script.string() + " " +
                            (root_ / "island_gpu" / "1" / "model.pt").string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ofstream(root_ / "island_gpu" / "config.pbtxt")
        << "backend: \"pytorch\"\ninstance_group [ { kind: KIND_GPU } ]\n"
           "parameters { key: \"cocktail.inputs\" value { string_value: \"x:f32[4]\" } }\n";
    // The interpreter on a GPU, and an artifact compiled for the CPU only: both refused.
    addModel(root_, "loop", "loop_ts_gpu",
             std::string(kLoopInputs) + "instance_group [ { kind: KIND_GPU } ]\n" +
                 "parameters { key: \"cocktail.backend\" value { string_value: \"torchscript\" } }\n");
    cocktail::driver::CompileOptions cpuOnly;
    cpuOnly.inputSpecs = {"xs:f32[T<=16,4]", "steps:i64"};
    cpuOnly.target = "cpu";
    auto compiled = cocktail::driver::compileTorchScript((root_ / "loop" / "1" / "model.pt").string(), cpuOnly);
    EXPECT_TRUE(compiled.ok()) << compiled.status().str();
    fs::create_directories(root_ / "cpu_artifact_gpu" / "1");
    if (compiled.ok())
      EXPECT_TRUE(cocktail::runtime::saveArtifact(compiled->artifact,
                                                  (root_ / "cpu_artifact_gpu" / "1" / "model.cocktail").string())
                      .ok());
    std::ofstream(root_ / "cpu_artifact_gpu" / "config.pbtxt")
        << "backend: \"pytorch\"\ninstance_group [ { kind: KIND_GPU } ]\n";
    gpus_ = std::make_shared<EmulatedGpus>(2);
    server_ = new InProcessServer(
        root_,
        {"loop", "addmul", "loop_gpu", "addmul_gpu", "loop_gpu9", "island_gpu", "loop_ts_gpu", "cpu_artifact_gpu"},
        gpus_);
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(root_);
  }
  static inline fs::path root_;
  static inline std::vector<LoopCase> cases_;
  static inline std::shared_ptr<EmulatedGpus> gpus_;
  static inline InProcessServer* server_ = nullptr;
};

TEST_F(GpuServing, EachInstanceIsOpenedOnTheGpuItsGroupPlacesIt) {
  auto index = server_->index();
  ASSERT_EQ(index["loop_gpu"].state(), "READY") << index["loop_gpu"].reason();
  ASSERT_EQ(index["addmul_gpu"].state(), "READY") << index["addmul_gpu"].reason();
  std::multiset<int> opened;
  for (int g : gpus_->opened()) opened.insert(g);
  // loop_gpu on GPU 1; addmul_gpu once on each of the two; nothing for the CPU models.
  EXPECT_EQ(opened, (std::multiset<int>{0, 1, 1}));

  grpc::ClientContext ctx;
  inference::ModelConfigRequest req;
  req.set_name("addmul_gpu");
  inference::ModelConfigResponse config;
  ASSERT_TRUE(server_->stub->ModelConfig(&ctx, req, &config).ok());
  ASSERT_EQ(config.config().instance_group_size(), 1);
  const auto& group = config.config().instance_group(0);
  EXPECT_EQ(group.kind(), inference::ModelInstanceGroup::KIND_GPU);
  EXPECT_EQ(std::vector<int>(group.gpus().begin(), group.gpus().end()), (std::vector<int>{0, 1}));
}

TEST_F(GpuServing, GpuMemoryMetricsCoverTheGpusInstancesUse) {
  const std::string text = server_->metrics->render();
  for (int gpu : {0, 1}) {
    const std::string label = "{gpu_uuid=\"EMU-GPU-" + std::to_string(gpu) + "\"}";
    EXPECT_EQ(metric(text, "nv_gpu_memory_total_bytes" + label), double((int64_t{1} << 30) + gpu)) << text;
    EXPECT_EQ(metric(text, "nv_gpu_memory_used_bytes" + label), 1000.0 * (gpu + 1)) << text;
  }
  EXPECT_EQ(text.find("EMU-GPU-2"), std::string::npos);
}

TEST_F(GpuServing, AGpuPastTheCountIsUnavailableWithTheReasonAndTheOthersServe) {
  auto index = server_->index();
  EXPECT_EQ(index["loop_gpu9"].state(), "UNAVAILABLE");
  const std::string& reason = index["loop_gpu9"].reason();
  for (const char* part : {"instance_group 0", "KIND_GPU", "GPU 9", "2 GPUs"})
    EXPECT_NE(reason.find(part), std::string::npos) << "reason: " << reason;
  ModelInferResponse resp;
  grpc::Status s = infer(*server_->stub, loopRequest(cases_[0], "loop_gpu9"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("GPU 9"), std::string::npos) << s.error_message();
  ASSERT_TRUE(infer(*server_->stub, loopRequest(cases_[0], "loop"), &resp).ok());
  expectClose(floats(resp.raw_output_contents(0)), cases_[0].out);
}

TEST_F(GpuServing, AModelTheCudaGeneratorRefusesIsUnavailableWithItsReasonNotOnTheCpu) {
  auto index = server_->index();
  EXPECT_EQ(index["island_gpu"].state(), "UNAVAILABLE");
  const std::string& reason = index["island_gpu"].reason();
  for (const char* part : {"KIND_GPU", "target cuda", "aten::cumprod", "island.py:4"})
    EXPECT_NE(reason.find(part), std::string::npos) << "reason: " << reason;
}

TEST_F(GpuServing, TheInterpreterAndACpuOnlyArtifactAreRefusedOnKindGpu) {
  auto index = server_->index();
  EXPECT_EQ(index["loop_ts_gpu"].state(), "UNAVAILABLE");
  EXPECT_NE(index["loop_ts_gpu"].reason().find("KIND_GPU runs compiled models"), std::string::npos)
      << index["loop_ts_gpu"].reason();
  EXPECT_EQ(index["cpu_artifact_gpu"].state(), "UNAVAILABLE");
  EXPECT_NE(index["cpu_artifact_gpu"].reason().find("KIND_GPU needs CUDA code, but"), std::string::npos)
      << index["cpu_artifact_gpu"].reason();
  EXPECT_NE(index["cpu_artifact_gpu"].reason().find("compiled for target cpu"), std::string::npos)
      << index["cpu_artifact_gpu"].reason();
}

TEST_F(GpuServing, TheGpuPathAnswersAsTheCpuPathAndTorchScript) {
  for (const LoopCase& c : cases_) {
    ModelInferResponse gpu, cpu;
    grpc::Status s = infer(*server_->stub, loopRequest(c, "loop_gpu"), &gpu, 120000);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_TRUE(infer(*server_->stub, loopRequest(c, "loop"), &cpu).ok());
    expectClose(floats(gpu.raw_output_contents(0)), c.out);  // TorchScript's
    expectClose(floats(gpu.raw_output_contents(0)), floats(cpu.raw_output_contents(0)));
  }
}

TEST_F(GpuServing, ADynamicBatchOnTheGpuGivesEveryRequestItsOwnRows) {
  constexpr int kClients = 4;
  std::vector<std::thread> clients;
  std::atomic<int> wrong{0};
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      ModelInferRequest gpuReq = addmulRequest(1, float(i), 2.0f + float(i));
      gpuReq.set_model_name("addmul_gpu");
      ModelInferResponse gpu, cpu;
      grpc::Status s = infer(*server_->stub, gpuReq, &gpu, 120000);
      const bool cpuOk = infer(*server_->stub, addmulRequest(1, float(i), 2.0f + float(i)), &cpu).ok();
      if (!s.ok() || !cpuOk || gpu.outputs(0).shape(0) != 1 ||
          floats(gpu.raw_output_contents(0)) != std::vector<float>(4, 2.0f + 2.0f * float(i)) ||
          floats(gpu.raw_output_contents(1)) != std::vector<float>(4, float(i) * (2.0f + float(i))) ||
          gpu.raw_output_contents(0) != cpu.raw_output_contents(0) ||
          gpu.raw_output_contents(1) != cpu.raw_output_contents(1))
        ++wrong;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);

  // Two instances took the four requests within the delay: some run held more than one.
  grpc::ClientContext ctx;
  inference::ModelStatisticsRequest req;
  req.set_name("addmul_gpu");
  inference::ModelStatisticsResponse stats;
  ASSERT_TRUE(server_->stub->ModelStatistics(&ctx, req, &stats).ok());
  ASSERT_EQ(stats.model_stats_size(), 1);
  uint64_t largest = 0;
  for (const auto& b : stats.model_stats(0).batch_stats()) largest = std::max<uint64_t>(largest, b.batch_size());
  EXPECT_GE(largest, 2u);
  EXPECT_LT(stats.model_stats(0).execution_count(), stats.model_stats(0).inference_count());
}

TEST(GpuServingWithoutGpus, KindGpuIsUnavailableWithTheReasonAndTheCpuModelsServe) {
  const fs::path root = fs::temp_directory_path() / ("cocktail-gpu-serving-none-" + std::to_string(getpid()));
  fs::remove_all(root);
  std::vector<LoopCase> cases = writeRepository(root);
  addModel(root, "loop", "loop_gpu", std::string(kLoopInputs) + "instance_group [ { kind: KIND_GPU } ]\n");
  {
    InProcessServer server(root, {"loop", "loop_gpu"}, std::make_shared<EmulatedGpus>(0));
    auto index = server.index();
    EXPECT_EQ(index["loop_gpu"].state(), "UNAVAILABLE");
    EXPECT_NE(index["loop_gpu"].reason().find("the test's emulated machine has none"), std::string::npos)
        << index["loop_gpu"].reason();
    // No GPU in use: no GPU series.
    EXPECT_EQ(server.metrics->render().find("gpu_uuid"), std::string::npos);
    ModelInferResponse resp;
    ASSERT_TRUE(infer(*server.stub, loopRequest(cases[1], "loop"), &resp).ok());
    expectClose(floats(resp.raw_output_contents(0)), cases[1].out);
  }
  fs::remove_all(root);
}

}  // namespace
