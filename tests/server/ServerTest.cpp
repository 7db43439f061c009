//===- tests/server/ServerTest.cpp - cocktail-serve over a real loopback socket -------===//
//
// Starts the cocktail-serve binary on a repository written by
// make_repository.py (free ports: --grpc-port 0 --metrics-port 0), talks to it
// with a C++ gRPC client, and checks health, metadata, inference (raw and
// typed contents, streaming), every kind of bad request, back-pressure,
// timeouts, cancelled calls, statistics, metrics, load/unload/reload under traffic,
// concurrent load, poll mode, the SIGTERM drain, and the two backends
// (compiled, and the TorchScript interpreter with `cocktail.backend`)
// against the TorchScript reference.
//
//===----------------------------------------------------------------------===//
#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "driver/Compile.h"
#include "health.grpc.pb.h"
#include "ir/Schedule.h"
#include "runtime/Artifact.h"
#include "runtime/MemoryEstimate.h"
#include "runtime/TorchInterop.h"
#include "tests/server/ServerHarness.h"
#if COCKTAIL_HAVE_CUDA
#include "runtime/cuda/DeviceQuery.h"
#endif

using namespace serve_harness;
namespace ir = cocktail::ir;
namespace runtime = cocktail::runtime;
namespace driver = cocktail::driver;

namespace {

fs::path gRepo;
std::unique_ptr<ServerProcess> gServer;
std::vector<LoopCase> gCases;

/// The repository and the expected outputs, once per test process.
class RepositoryEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    gRepo = fs::temp_directory_path() / ("cocktail-server-test-" + std::to_string(getpid()));
    fs::remove_all(gRepo);
    gCases = writeRepository(gRepo / "repo");
    ASSERT_EQ(gCases.size(), 4u);
  }
  void TearDown() override { fs::remove_all(gRepo); }
};

const auto* const gEnvironment = ::testing::AddGlobalTestEnvironment(new RepositoryEnvironment);

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gServer = std::make_unique<ServerProcess>(gRepo / "repo", std::vector<std::string>{
        "--model-control-mode", "explicit", "--load-model", "*", "--cache-dir", cacheDir()});
  }
  static void TearDownTestSuite() { gServer.reset(); }
  void SetUp() override {
    ASSERT_TRUE(gServer && gServer->grpcPort > 0) << "the server did not start";
    stub_ = gServer->stub();
  }
  /// Sends `req` and expects `code` with `message` in the error.
  void expectError(const ModelInferRequest& req, grpc::StatusCode code, const std::string& message) {
    ModelInferResponse resp;
    grpc::Status s = infer(*stub_, req, &resp);
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_NE(s.error_message().find(message), std::string::npos) << "message: " << s.error_message();
  }
  /// The server still answers a good request correctly.
  void expectStillServes() {
    ModelInferResponse resp;
    ASSERT_TRUE(infer(*stub_, loopRequest(gCases[0]), &resp).ok());
    expectClose(floats(resp.raw_output_contents(0)), gCases[0].out);
  }
  std::unique_ptr<GRPCInferenceService::Stub> stub_;
};

TEST_F(ServerTest, HealthLivenessReadinessMetadata) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(gServer->grpcPort), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext hctx;
  grpc::health::v1::HealthCheckRequest hreq;
  grpc::health::v1::HealthCheckResponse hresp;
  ASSERT_TRUE(health->Check(&hctx, hreq, &hresp).ok());
  EXPECT_EQ(hresp.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  grpc::ClientContext c1, c2, c3, c4;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  inference::ServerMetadataResponse meta;
  ASSERT_TRUE(stub_->ServerMetadata(&c3, {}, &meta).ok());
  EXPECT_EQ(meta.name(), "cocktail");
  std::vector<std::string> ext(meta.extensions().begin(), meta.extensions().end());
  EXPECT_NE(std::find(ext.begin(), ext.end(), "model_repository"), ext.end());
  EXPECT_NE(std::find(ext.begin(), ext.end(), "statistics"), ext.end());

  inference::ModelMetadataRequest mreq;
  mreq.set_name("loop");
  inference::ModelMetadataResponse mm;
  ASSERT_TRUE(stub_->ModelMetadata(&c4, mreq, &mm).ok());
  ASSERT_EQ(mm.inputs_size(), 2);
  EXPECT_EQ(mm.inputs(0).name(), "xs");
  EXPECT_EQ(mm.inputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(mm.inputs(0).shape().begin(), mm.inputs(0).shape().end()), (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(mm.inputs(1).name(), "steps");
  EXPECT_EQ(mm.inputs(1).datatype(), "INT64");
  ASSERT_EQ(mm.outputs_size(), 1);
  EXPECT_EQ(mm.outputs(0).name(), "OUTPUT__0");
  EXPECT_EQ(mm.outputs(0).datatype(), "FP32");
  EXPECT_EQ(mm.versions(0), "1");

  for (const char* model : {"loop", "addmul", "broken", "nope"}) {
    grpc::ClientContext c;
    inference::ModelReadyRequest r;
    r.set_name(model);
    inference::ModelReadyResponse rr;
    ASSERT_TRUE(stub_->ModelReady(&c, r, &rr).ok());
    EXPECT_EQ(rr.ready(), std::string(model) == "loop" || std::string(model) == "addmul") << model;
  }
}

TEST_F(ServerTest, ConfigAndIndex) {
  grpc::ClientContext c1, c2;
  inference::ModelConfigRequest creq;
  creq.set_name("addmul");
  inference::ModelConfigResponse conf;
  ASSERT_TRUE(stub_->ModelConfig(&c1, creq, &conf).ok());
  EXPECT_EQ(conf.config().name(), "addmul");
  EXPECT_EQ(conf.config().max_batch_size(), 8);
  ASSERT_EQ(conf.config().input_size(), 2);
  EXPECT_EQ(conf.config().input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(conf.config().input(0).dims_size(), 1);  // the batch dim is left out
  EXPECT_EQ(conf.config().output_size(), 2);
  EXPECT_TRUE(conf.config().has_dynamic_batching());

  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub_->RepositoryIndex(&c2, {}, &index).ok());
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> byName;
  for (const auto& m : index.models()) byName[m.name()] = m;
  EXPECT_EQ(byName["loop"].state(), "READY");
  EXPECT_EQ(byName["slow"].state(), "READY");
  EXPECT_EQ(byName["broken"].state(), "UNAVAILABLE");
  EXPECT_NE(byName["broken"].reason().find("not a TorchScript file"), std::string::npos) << byName["broken"].reason();
}

TEST_F(ServerTest, InferRawMatchesTorchScript) {
  for (const LoopCase& c : gCases) {
    ModelInferResponse resp;
    grpc::Status s = infer(*stub_, loopRequest(c), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.model_name(), "loop");
    EXPECT_EQ(resp.model_version(), "1");
    EXPECT_EQ(resp.id(), "case");
    ASSERT_EQ(resp.outputs_size(), 1);
    EXPECT_EQ(resp.outputs(0).datatype(), "FP32");
    EXPECT_EQ(resp.outputs(0).shape_size(), 1);
    expectClose(floats(resp.raw_output_contents(0)), c.out);
  }
  // Requested outputs by name, in the INPUT__n spelling too.
  ModelInferResponse resp;
  ModelInferRequest r = addmulRequest(3, 2.0f, 5.0f);
  r.add_outputs()->set_name("OUTPUT__1");
  ASSERT_TRUE(infer(*stub_, r, &resp).ok());
  ASSERT_EQ(resp.outputs_size(), 1);
  EXPECT_EQ(resp.outputs(0).name(), "OUTPUT__1");
  expectClose(floats(resp.raw_output_contents(0)), std::vector<float>(12, 10.0f));
}

TEST_F(ServerTest, InferTypedContents) {
  const LoopCase& c = gCases[3];
  ModelInferRequest r;
  r.set_model_name("loop");
  auto* xs = r.add_inputs();
  xs->set_name("INPUT__0");
  xs->set_datatype("FP32");
  xs->add_shape(c.t);
  xs->add_shape(4);
  for (float v : c.xs) xs->mutable_contents()->add_fp32_contents(v);
  auto* steps = r.add_inputs();
  steps->set_name("steps");
  steps->set_datatype("INT64");
  steps->add_shape(1);
  steps->mutable_contents()->add_int64_contents(c.steps);
  ModelInferResponse resp;
  grpc::Status s = infer(*stub_, r, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.raw_output_contents_size(), 1);  // outputs are always raw
  expectClose(floats(resp.raw_output_contents(0)), c.out);
}

TEST_F(ServerTest, EveryBadRequestIsRefusedAndTheServerStillServes) {
  using Code = grpc::StatusCode;
  const LoopCase& c = gCases[0];
  struct Bad {
    const char* what;
    std::function<void(ModelInferRequest&)> edit;
    Code code;
    const char* message;
  };
  const std::vector<Bad> bad = {
      {"unknown model", [](auto& r) { r.set_model_name("nope"); }, Code::NOT_FOUND, "unknown model 'nope'"},
      {"model not ready", [](auto& r) { r.set_model_name("broken"); }, Code::UNAVAILABLE, "not ready"},
      {"unknown version", [](auto& r) { r.set_model_version("7"); }, Code::NOT_FOUND, "no version 7"},
      {"bad version", [](auto& r) { r.set_model_version("v1"); }, Code::INVALID_ARGUMENT, "model_version 'v1'"},
      {"missing input", [](auto& r) { r.mutable_inputs()->RemoveLast(); r.mutable_raw_input_contents()->RemoveLast(); },
       Code::INVALID_ARGUMENT, "missing input 'steps'"},
      {"unknown input", [](auto& r) { r.mutable_inputs(1)->set_name("stepz"); }, Code::INVALID_ARGUMENT,
       "inputs[1]: unknown input 'stepz'"},
      {"input twice", [](auto& r) { r.mutable_inputs(1)->set_name("xs"); r.mutable_inputs(1)->set_datatype("FP32"); },
       Code::INVALID_ARGUMENT, "given twice"},
      {"wrong datatype", [](auto& r) { r.mutable_inputs(1)->set_datatype("INT32"); }, Code::INVALID_ARGUMENT,
       "inputs[1] ('steps'): datatype 'INT32' does not match the model's INT64"},
      {"unknown datatype", [](auto& r) { r.mutable_inputs(0)->set_datatype("FLOAT"); }, Code::INVALID_ARGUMENT,
       "datatype 'FLOAT'"},
      {"wrong rank", [](auto& r) { r.mutable_inputs(0)->add_shape(1); }, Code::INVALID_ARGUMENT, "has rank 3"},
      {"wrong fixed dim", [](auto& r) { r.mutable_inputs(0)->set_shape(1, 6); }, Code::INVALID_ARGUMENT,
       "dim 1 is 6, but the model takes 4"},
      {"above the bound", [](auto& r) { r.mutable_inputs(0)->set_shape(0, 17); }, Code::INVALID_ARGUMENT,
       "above the bound T<=16"},
      {"negative dim", [](auto& r) { r.mutable_inputs(0)->set_shape(0, -2); }, Code::INVALID_ARGUMENT, "negative"},
      {"byte size", [](auto& r) { r.mutable_raw_input_contents(0)->resize(20); }, Code::INVALID_ARGUMENT,
       "raw_input_contents[0] has 20 bytes, but shape [3, 4] of FP32 needs 48"},
      {"raw count", [](auto& r) { r.mutable_raw_input_contents()->RemoveLast(); }, Code::INVALID_ARGUMENT,
       "raw_input_contents has 1 entries but the request has 2 inputs"},
      {"raw and typed mixed", [](auto& r) { r.mutable_inputs(1)->mutable_contents()->add_int64_contents(3); },
       Code::INVALID_ARGUMENT, "use one or the other"},
      {"scalar shape", [](auto& r) { r.mutable_inputs(1)->set_shape(0, 2); r.mutable_raw_input_contents(1)->resize(16); },
       Code::INVALID_ARGUMENT, "(a scalar)"},
      {"unknown output", [](auto& r) { r.add_outputs()->set_name("OUTPUT__9"); }, Code::INVALID_ARGUMENT,
       "outputs[0]: unknown output 'OUTPUT__9'"},
      {"bad timeout", [](auto& r) { (*r.mutable_parameters())["timeout"].set_string_param("soon"); }, Code::INVALID_ARGUMENT,
       "parameters['timeout']"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.what);
    ModelInferRequest r = loopRequest(c);
    b.edit(r);
    expectError(r, b.code, b.message);
  }
  // Typed contents: wrong field, wrong count, no contents at all.
  ModelInferRequest typed;
  typed.set_model_name("loop");
  auto* xs = typed.add_inputs();
  xs->set_name("xs");
  xs->set_datatype("FP32");
  xs->add_shape(1);
  xs->add_shape(4);
  for (int i = 0; i < 4; ++i) xs->mutable_contents()->add_fp64_contents(1.0);
  auto* steps = typed.add_inputs();
  steps->set_name("steps");
  steps->set_datatype("INT64");
  steps->add_shape(1);
  steps->mutable_contents()->add_int64_contents(1);
  expectError(typed, Code::INVALID_ARGUMENT, "FP32 data belongs in contents.fp32_contents, not contents.fp64_contents");
  xs->mutable_contents()->clear_fp64_contents();
  xs->mutable_contents()->add_fp32_contents(1.0f);
  expectError(typed, Code::INVALID_ARGUMENT, "contents.fp32_contents has 1 elements, but shape [1, 4] needs 4");
  xs->mutable_contents()->Clear();
  expectError(typed, Code::INVALID_ARGUMENT, "has 0 elements");
  // Symbols must agree across inputs; the batch within max_batch_size.
  ModelInferRequest mismatch = addmulRequest(2, 1, 1);
  mismatch.mutable_inputs(1)->set_shape(0, 3);
  mismatch.mutable_raw_input_contents(1)->resize(48);
  expectError(mismatch, Code::INVALID_ARGUMENT, "sets B to 2");
  expectError(addmulRequest(9, 1, 1), Code::INVALID_ARGUMENT, "above the bound B<=8");
  expectStillServes();
}

TEST_F(ServerTest, AModelsOwnRaiseIsInvalidArgumentWithItsMessage) {
  auto request = [](float v) {
    ModelInferRequest r;
    r.set_model_name("raising");
    std::vector<float> x(4, v);
    addRaw(r, "x", "FP32", {4}, x.data(), x.size() * 4);
    return r;
  };
  ModelInferResponse resp;
  ASSERT_TRUE(infer(*stub_, request(1.5f), &resp).ok());
  expectClose(floats(resp.raw_output_contents(0)), {3.0f, 3.0f, 3.0f, 3.0f});
  expectError(request(-1.0f), grpc::StatusCode::INVALID_ARGUMENT, "x must not sum below zero");
  expectStillServes();
}

TEST_F(ServerTest, UnimplementedExtensions) {
  grpc::ClientContext ctx;
  inference::SystemSharedMemoryStatusResponse resp;
  grpc::Status s = stub_->SystemSharedMemoryStatus(&ctx, {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  grpc::ClientContext ctx2;
  inference::TraceSettingResponse trace;
  EXPECT_EQ(stub_->TraceSetting(&ctx2, {}, &trace).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ServerTest, StreamInferAnswersEveryRequestErrorsInline) {
  grpc::ClientContext ctx;
  auto stream = stub_->ModelStreamInfer(&ctx);
  for (int i = 0; i < 3; ++i) {
    ModelInferRequest r = loopRequest(gCases[i]);
    r.set_id("req" + std::to_string(i));
    ASSERT_TRUE(stream->Write(r));
  }
  ModelInferRequest bad = loopRequest(gCases[0]);
  bad.set_id("bad");
  bad.mutable_inputs(0)->set_datatype("FP64");
  ASSERT_TRUE(stream->Write(bad));
  stream->WritesDone();
  std::map<std::string, inference::ModelStreamInferResponse> byId;
  for (inference::ModelStreamInferResponse resp; stream->Read(&resp);) byId[resp.infer_response().id()] = resp;
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(byId.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    const auto& resp = byId["req" + std::to_string(i)];
    EXPECT_EQ(resp.error_message(), "");
    expectClose(floats(resp.infer_response().raw_output_contents(0)), gCases[i].out);
  }
  EXPECT_NE(byId["bad"].error_message().find("datatype 'FP64'"), std::string::npos);
}

TEST_F(ServerTest, StatisticsAndMetrics) {
  ModelInferResponse resp;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(infer(*stub_, loopRequest(gCases[0]), &resp).ok());
  grpc::ClientContext ctx;
  inference::ModelStatisticsRequest req;
  req.set_name("loop");
  inference::ModelStatisticsResponse stats;
  ASSERT_TRUE(stub_->ModelStatistics(&ctx, req, &stats).ok());
  ASSERT_EQ(stats.model_stats_size(), 1);
  const auto& s = stats.model_stats(0);
  EXPECT_EQ(s.name(), "loop");
  EXPECT_GE(s.inference_stats().success().count(), 3u);
  EXPECT_GT(s.inference_stats().compute_infer().ns(), 0u);
  EXPECT_GE(s.inference_count(), 3u);
  EXPECT_GT(s.last_inference(), 0u);

  std::string text = httpGet(gServer->metricsPort, "/metrics");
  EXPECT_NE(text.find("200 OK"), std::string::npos);
  EXPECT_GE(metric(text, "nv_inference_request_success{model=\"loop\",version=\"1\"}"), 3);
  EXPECT_GE(metric(text, "nv_inference_count{model=\"loop\",version=\"1\"}"), 3);
  EXPECT_GE(metric(text, "nv_inference_exec_count{model=\"loop\",version=\"1\"}"), 3);
  for (const char* name : {"nv_inference_request_failure", "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
                           "nv_inference_compute_infer_duration_us", "nv_inference_pending_request_count"})
    EXPECT_GE(metric(text, std::string(name) + "{model=\"loop\",version=\"1\"}"), 0) << name;
}

/// `slow` has one instance and a queue of one: a burst must see RESOURCE_EXHAUSTED,
/// and every request it accepted must be answered correctly.
TEST_F(ServerTest, BackPressureAndTimeouts) {
  LoopCase slow = gCases[1];  // T = 16
  slow.steps = 4000;
  std::atomic<int> ok{0}, exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      auto stub = gServer->stub();
      ModelInferResponse resp;
      grpc::Status s = infer(*stub, loopRequest(slow, "slow"), &resp);
      if (s.ok()) ++ok;
      else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
      else ++other;
    });
  for (auto& t : clients) t.join();
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(exhausted.load(), 1);
  EXPECT_EQ(other.load(), 0);

  // A request that waits in the queue past its timeout is answered DEADLINE_EXCEEDED.
  std::thread busy([&] {
    auto stub = gServer->stub();
    ModelInferResponse resp;
    EXPECT_TRUE(infer(*stub, loopRequest(slow, "slow"), &resp).ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ModelInferRequest timed = loopRequest(gCases[0], "slow");
  (*timed.mutable_parameters())["timeout"].set_int64_param(1000);  // 1 ms
  ModelInferResponse resp;
  grpc::Status s = infer(*stub_, timed, &resp);
  busy.join();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
}

TEST_F(ServerTest, DynamicBatchingGivesEveryRequestItsOwnRows) {
  std::vector<std::thread> clients;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 12; ++i)
    clients.emplace_back([&, i] {
      auto stub = gServer->stub();
      ModelInferResponse resp;
      int64_t b = 1 + i % 3;
      grpc::Status s = infer(*stub, addmulRequest(b, float(i), 2.0f), &resp);
      if (!s.ok() || resp.outputs(0).shape(0) != b || floats(resp.raw_output_contents(0)) != std::vector<float>(b * 4, i + 2.0f) ||
          floats(resp.raw_output_contents(1)) != std::vector<float>(b * 4, i * 2.0f))
        ++wrong;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

/// Many clients, a bounded count and time: every response is correct.
TEST_F(ServerTest, ConcurrentLoad) {
  const int kClients = 16, kEach = 40;
  std::atomic<int> bad{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      auto stub = gServer->stub();
      for (int k = 0; k < kEach; ++k) {
        const LoopCase& c = gCases[(i + k) % gCases.size()];
        ModelInferResponse resp;
        grpc::Status s = infer(*stub, loopRequest(c), &resp);
        if (!s.ok()) { ++bad; continue; }
        auto out = floats(resp.raw_output_contents(0));
        for (size_t j = 0; j < 4; ++j)
          if (std::fabs(out[j] - c.out[j]) > 1e-5 * (1 + std::fabs(c.out[j]))) { ++bad; break; }
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(120));
}

TEST_F(ServerTest, LoadUnloadAndReloadUnderTraffic) {
  auto control = [&](bool load, const std::string& name) {
    grpc::ClientContext ctx;
    if (load) {
      inference::RepositoryModelLoadRequest r;
      r.set_model_name(name);
      inference::RepositoryModelLoadResponse resp;
      return stub_->RepositoryModelLoad(&ctx, r, &resp);
    }
    inference::RepositoryModelUnloadRequest r;
    r.set_model_name(name);
    inference::RepositoryModelUnloadResponse resp;
    return stub_->RepositoryModelUnload(&ctx, r, &resp);
  };
  EXPECT_EQ(control(true, "nope").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(control(true, "../loop").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(control(true, "broken").ok());

  // Traffic on `loop` while it is reloaded: no request may fail.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::string lastError;
  std::mutex errMu;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&] {
      auto stub = gServer->stub();
      while (!stop.load()) {
        ModelInferResponse resp;
        grpc::Status s = infer(*stub, loopRequest(gCases[2]), &resp);
        if (s.ok() && floats(resp.raw_output_contents(0)) == gCases[2].out) ++ok;
        else if (s.ok()) ++failed;
        else {
          ++failed;
          std::lock_guard<std::mutex> lock(errMu);
          lastError = s.error_message();
        }
      }
    });
  for (int i = 0; i < 3; ++i) {
    grpc::Status s = control(true, "loop");
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0) << lastError;

  // Unload: accepted requests are answered; later ones get UNAVAILABLE; load brings it back.
  ASSERT_TRUE(control(false, "addmul").ok());
  ModelInferResponse resp;
  grpc::Status s = infer(*stub_, addmulRequest(1, 1, 1), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  s = control(true, "addmul");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(infer(*stub_, addmulRequest(1, 1, 1), &resp).ok());
}

// ---- backends: compiled and the TorchScript interpreter (cocktail.backend) ----

/// A tensor of uniform values in [-1, 1).
runtime::Tensor randomTensor(std::mt19937& rng, runtime::Shape shape) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  runtime::Tensor t = runtime::Tensor::empty(ir::DType::F32, std::move(shape));
  for (float& v : t.span<float>()) v = value(rng);
  return t;
}

void addTensor(ModelInferRequest& r, const std::string& name, const runtime::Tensor& t) {
  addRaw(r, name, "FP32", t.shape(), t.rawData(), static_cast<size_t>(t.nbytes()));
}

/// Output `k` of `resp` against the reference's: same shape, max |a - e| <= 1e-5 * max |e|.
void expectMatchesReference(const ModelInferResponse& resp, int k, const runtime::RuntimeValue& expected) {
  const auto& e = std::get<runtime::Tensor>(expected);
  ASSERT_EQ(std::vector<int64_t>(resp.outputs(k).shape().begin(), resp.outputs(k).shape().end()), e.shape());
  std::vector<float> got = floats(resp.raw_output_contents(k));
  auto want = e.span<const float>();
  ASSERT_EQ(got.size(), want.size());
  double scale = 0, err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    scale = std::max(scale, std::fabs(double(want[i])));
    err = std::max(err, std::fabs(double(got[i]) - want[i]));
  }
  EXPECT_LE(err, 1e-5 * std::max(scale, 1e-12)) << "max abs error " << err << ", max |reference| " << scale;
}

/// `loop` and `addmul` are served compiled, `loop_ts` and `addmul_ts` (the same
/// model.pt) by the TorchScript interpreter; on random inputs every one of them
/// answers what the TorchScript reference computes in this process.
TEST_F(ServerTest, BothBackendsMatchTheTorchScriptReferenceOnRandomInputs) {
  std::mt19937 rng(20261124);
  const fs::path repo = gRepo / "repo";
  for (int k = 0; k < 6; ++k) {
    const int64_t t = 1 + static_cast<int64_t>(rng() % 16), steps = static_cast<int64_t>(rng() % 6);
    runtime::Tensor xs = randomTensor(rng, {t, 4});
    auto expected = runtime::runTorchScript((repo / "loop" / "1" / "model.pt").string(), {xs, steps});
    ASSERT_TRUE(expected.ok()) << expected.status().str();
    for (const char* model : {"loop", "loop_ts"}) {
      SCOPED_TRACE(std::string(model) + " T=" + std::to_string(t) + " steps=" + std::to_string(steps));
      ModelInferRequest r;
      r.set_model_name(model);
      addTensor(r, "xs", xs);
      addRaw(r, "steps", "INT64", {1}, &steps, 8);
      ModelInferResponse resp;
      grpc::Status s = infer(*stub_, r, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(resp.outputs_size(), 1);
      expectMatchesReference(resp, 0, expected->front());
    }
  }
  // Two outputs, a batch dim, dynamic batching: concurrent requests of 1 to 3 rows.
  std::vector<std::thread> clients;
  std::mutex mu;
  std::vector<std::string> failures;
  for (int i = 0; i < 8; ++i) {
    const int64_t b = 1 + i % 3;
    runtime::Tensor x = randomTensor(rng, {b, 4}), y = randomTensor(rng, {b, 4});
    clients.emplace_back([&, i, x, y] {
      auto expected = runtime::runTorchScript((repo / "addmul" / "1" / "model.pt").string(), {x, y});
      auto stub = gServer->stub();
      for (const char* model : {"addmul", "addmul_ts"}) {
        ModelInferRequest r;
        r.set_model_name(model);
        addTensor(r, "x", x);
        addTensor(r, "INPUT__1", y);
        ModelInferResponse resp;
        grpc::Status s = infer(*stub, r, &resp);
        std::lock_guard<std::mutex> lock(mu);
        if (!expected.ok()) failures.push_back(expected.status().str());
        else if (!s.ok()) failures.push_back(std::string(model) + ": " + s.error_message());
        else if (resp.outputs_size() != 2) failures.push_back(std::string(model) + ": not 2 outputs");
        else {
          SCOPED_TRACE(std::string(model) + " request " + std::to_string(i));
          expectMatchesReference(resp, 0, (*expected)[0]);
          expectMatchesReference(resp, 1, (*expected)[1]);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_TRUE(failures.empty()) << failures.front();

  // The interpreter's requests are validated against the same signature...
  ModelInferRequest big = loopRequest(gCases[0], "loop_ts");
  big.mutable_inputs(0)->set_shape(0, 17);
  expectError(big, grpc::StatusCode::INVALID_ARGUMENT, "above the bound T<=16");
  // ... and counted in the same statistics and metrics.
  grpc::ClientContext ctx;
  inference::ModelStatisticsRequest req;
  req.set_name("loop_ts");
  inference::ModelStatisticsResponse stats;
  ASSERT_TRUE(stub_->ModelStatistics(&ctx, req, &stats).ok());
  ASSERT_EQ(stats.model_stats_size(), 1);
  EXPECT_GE(stats.model_stats(0).inference_stats().success().count(), 6u);
  EXPECT_GE(stats.model_stats(0).inference_stats().fail().count(), 1u);
  EXPECT_GT(stats.model_stats(0).inference_stats().compute_infer().ns(), 0u);
  std::string text = httpGet(gServer->metricsPort, "/metrics");
  EXPECT_GE(metric(text, "nv_inference_request_success{model=\"loop_ts\",version=\"1\"}"), 6);
  EXPECT_GE(metric(text, "nv_inference_request_success{model=\"addmul_ts\",version=\"1\"}"), 8);
}

TEST_F(ServerTest, ConfigAndMetadataSayWhichBackendServes) {
  for (auto [model, backend] : std::vector<std::pair<std::string, std::string>>{
           {"loop", "cocktail"}, {"addmul", "cocktail"}, {"loop_ts", "torchscript"}, {"addmul_ts", "torchscript"}}) {
    SCOPED_TRACE(model);
    grpc::ClientContext c1, c2;
    inference::ModelConfigRequest creq;
    creq.set_name(model);
    inference::ModelConfigResponse conf;
    ASSERT_TRUE(stub_->ModelConfig(&c1, creq, &conf).ok());
    ASSERT_EQ(conf.config().parameters().count("cocktail.backend"), 1u);
    EXPECT_EQ(conf.config().parameters().at("cocktail.backend").string_value(), backend);
    EXPECT_EQ(conf.config().platform(), "pytorch_libtorch");
    EXPECT_EQ(conf.config().input_size(), 2);
    EXPECT_EQ(conf.config().output_size(), model.rfind("addmul", 0) == 0 ? 2 : 1);
    inference::ModelMetadataRequest mreq;
    mreq.set_name(model);
    inference::ModelMetadataResponse mm;
    ASSERT_TRUE(stub_->ModelMetadata(&c2, mreq, &mm).ok());
    EXPECT_EQ(mm.platform(), "pytorch_libtorch");
    ASSERT_EQ(mm.inputs_size(), 2);
    EXPECT_EQ(mm.inputs(0).datatype(), "FP32");
  }
}

TEST_F(ServerTest, AnUnknownBackendIsUnavailableWithTheReasonAndTheOthersServe) {
  grpc::ClientContext ctx;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub_->RepositoryIndex(&ctx, {}, &index).ok());
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> byName;
  for (const auto& m : index.models()) byName[m.name()] = m;
  EXPECT_EQ(byName["badbackend"].state(), "UNAVAILABLE");
  const std::string& reason = byName["badbackend"].reason();
  for (const char* part : {"cocktail.backend", "\"tvm\"", "\"cocktail\"", "\"torchscript\""})
    EXPECT_NE(reason.find(part), std::string::npos) << "reason: " << reason;
  EXPECT_EQ(byName["loop_ts"].state(), "READY");
  expectError(loopRequest(gCases[0], "badbackend"), grpc::StatusCode::UNAVAILABLE, "cocktail.backend");
  expectStillServes();
  ModelInferResponse resp;
  ASSERT_TRUE(infer(*stub_, loopRequest(gCases[3], "loop_ts"), &resp).ok());
  expectClose(floats(resp.raw_output_contents(0)), gCases[3].out);
}

TEST(ServerModes, NoneModeRefusesLoadsAndPollModeSeesNewModels) {
  fs::path repo = gRepo / "poll";
  fs::create_directories(repo);
  fs::copy(gRepo / "repo" / "addmul", repo / "addmul", fs::copy_options::recursive);
  ServerProcess server(repo, {"--model-control-mode", "poll", "--repository-poll-secs", "1", "--cache-dir",
                              cacheDir()});
  ASSERT_GT(server.grpcPort, 0);
  auto stub = server.stub();
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest r;
    r.set_model_name("addmul");
    inference::RepositoryModelLoadResponse resp;
    EXPECT_EQ(stub->RepositoryModelLoad(&ctx, r, &resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  auto ready = [&](const std::string& name) {
    grpc::ClientContext ctx;
    inference::ModelReadyRequest r;
    r.set_name(name);
    inference::ModelReadyResponse resp;
    return stub->ModelReady(&ctx, r, &resp).ok() && resp.ready();
  };
  auto waitFor = [&](const std::string& name, bool want) {
    for (int i = 0; i < 100 && ready(name) != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return ready(name) == want;
  };
  EXPECT_TRUE(ready("addmul"));
  fs::copy(gRepo / "repo" / "loop", repo / "loop", fs::copy_options::recursive);
  EXPECT_TRUE(waitFor("loop", true));
  fs::remove_all(repo / "addmul");
  EXPECT_TRUE(waitFor("addmul", false));
}

// A loop whose trip count comes from the request could run for hours. Past the
// client's deadline its run stops (the next request on the one instance is then
// answered), a trip count over the limit is refused before it starts, and
// SIGTERM ends a server whose run has no deadline within the exit timeout.
TEST(ServerModes, RunawayLoopsStopAtTheirDeadlineAndAtShutdown) {
  ServerProcess server(gRepo / "repo", {"--cache-dir", cacheDir(), "--exit-timeout-secs", "1"});
  ASSERT_GT(server.grpcPort, 0);
  auto stub = server.stub();
  LoopCase runaway = gCases[0];
  runaway.steps = int64_t{1} << 31;  // under the limit of 2^32 steps, and hours of work
  ModelInferResponse resp;
  grpc::Status s = infer(*stub, loopRequest(runaway, "slow"), &resp, 300);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();

  // `slow` has one instance: this request runs only once the runaway stopped.
  const LoopCase& normal = gCases[0];
  s = infer(*stub, loopRequest(normal, "slow"), &resp, 20000);
  ASSERT_TRUE(s.ok()) << s.error_message();
  expectClose(floats(resp.raw_output_contents(0)), normal.out);

  LoopCase huge = gCases[0];
  huge.steps = int64_t{1} << 62;
  s = infer(*stub, loopRequest(huge, "slow"), &resp, 20000);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("would run 4611686018427387904 steps, over the limit of 4294967296"),
            std::string::npos) << s.error_message();

  std::atomic<int> code{-1};
  std::thread client([&] {
    ModelInferResponse r;
    code = infer(*server.stub(), loopRequest(runaway, "slow"), &r, 600000).error_code();
  });
  std::this_thread::sleep_for(settleTime(300));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server.terminate(), 1);  // a request was still running at the exit timeout
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  client.join();
  EXPECT_EQ(code.load(), grpc::StatusCode::UNAVAILABLE);
}

/// A ModelInfer call on its own thread, with a deadline far away, that the
/// test cancels as a client would (TryCancel).
class CancellableInfer {
 public:
  CancellableInfer(GRPCInferenceService::Stub& stub, const ModelInferRequest& request) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    thread_ = std::thread([this, &stub, request] {
      status_ = stub.ModelInfer(&ctx_, request, &response_);
      done_ = true;
    });
  }
  ~CancellableInfer() { cancel(); }
  /// True once the server answered (or the call was cancelled).
  bool done() const { return done_.load(); }
  grpc::Status cancel() {
    ctx_.TryCancel();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  grpc::ClientContext ctx_;
  ModelInferResponse response_;
  grpc::Status status_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

inference::ModelStatistics statisticsOf(GRPCInferenceService::Stub& stub, const std::string& model) {
  grpc::ClientContext ctx;
  inference::ModelStatisticsRequest req;
  req.set_name(model);
  inference::ModelStatisticsResponse stats;
  EXPECT_TRUE(stub.ModelStatistics(&ctx, req, &stats).ok());
  return stats.model_stats_size() == 1 ? stats.model_stats(0) : inference::ModelStatistics();
}

// A client that cancels its call gives its request up: queued, it is dropped
// without running; running, its run stops at the next loop step. `slow` has
// one instance and a queue of one, so a later request is served only if both
// runaways are gone. A cancelled stream gives up its requests the same way.
TEST(ServerModes, ACancelledCallStopsItsRunAndAQueuedOneNeverRuns) {
  ServerProcess server(gRepo / "repo", {"--cache-dir", cacheDir()});
  ASSERT_GT(server.grpcPort, 0);
  auto stub = server.stub();
  const uint64_t executionsBefore = statisticsOf(*stub, "slow").execution_count();
  LoopCase runaway = gCases[0];
  runaway.steps = int64_t{1} << 31;  // hours of work
  CancellableInfer running(*stub, loopRequest(runaway, "slow"));
  // The same connection carries it first, and well before the next one.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // With a queue of one, a second request is accepted only once the first
  // left the queue for the instance: the accepted one is the queued one.
  std::unique_ptr<CancellableInfer> queued;
  for (int attempt = 0; attempt < 100 && !queued; ++attempt) {
    auto call = std::make_unique<CancellableInfer>(*stub, loopRequest(runaway, "slow"));
    for (int i = 0; i < 20 && !call->done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!call->done())
      queued = std::move(call);
    else
      EXPECT_EQ(call->cancel().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  ASSERT_TRUE(queued) << "the second runaway was never queued";
  ASSERT_FALSE(running.done());
  EXPECT_EQ(queued->cancel().error_code(), grpc::StatusCode::CANCELLED);
  // The server learns of the cancel on its own; give it ample time before the
  // running one ends and the instance takes the queued one.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(running.cancel().error_code(), grpc::StatusCode::CANCELLED);

  // Served once the server saw the cancels (the queue is full until then).
  const LoopCase& normal = gCases[0];
  ModelInferResponse resp;
  auto inferNormal = [&] {
    grpc::Status s;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do s = infer(*stub, loopRequest(normal, "slow"), &resp, 20000);
    while (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && std::chrono::steady_clock::now() < until &&
           (std::this_thread::sleep_for(std::chrono::milliseconds(100)), true));
    return s;
  };
  grpc::Status s = inferNormal();
  ASSERT_TRUE(s.ok()) << s.error_message();
  expectClose(floats(resp.raw_output_contents(0)), normal.out);
  // The cancelled runaway and the normal request ran; the queued one did not.
  EXPECT_EQ(statisticsOf(*stub, "slow").execution_count() - executionsBefore, 2u);

  {
    grpc::ClientContext ctx;
    auto stream = stub->ModelStreamInfer(&ctx);
    ASSERT_TRUE(stream->Write(loopRequest(runaway, "slow")));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ctx.TryCancel();
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  s = inferNormal();
  ASSERT_TRUE(s.ok()) << s.error_message();
  expectClose(floats(resp.raw_output_contents(0)), normal.out);
}

TEST(ServerModes, AHandEditedArtifactIsUnavailableWithTheReasonAndTheOthersServe) {
  // The loop model compiled as the server compiles it, then its memory plan
  // edited: one tensor placed past the end of its arena. Before the verifier
  // checked plans, the trial run at load wrote out of bounds and took the
  // whole server down.
  fs::path repo = gRepo / "edited";
  fs::create_directories(repo);
  fs::copy(gRepo / "repo" / "loop", repo / "loop", fs::copy_options::recursive);
  driver::CompileOptions options;
  options.inputSpecs = {"xs:f32[T<=16,4]", "steps:i64"};
  options.target = "cpu";
  auto compiled = driver::compileTorchScript((repo / "loop" / "1" / "model.pt").string(), options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().str();
  ir::Program& program = *compiled->artifact.program;
  const auto arena = ir::arenaPlan(program);
  ASSERT_TRUE(arena && arena->bytes > 0);
  ir::Op* planned = nullptr;
  ir::walk(program.body(), [&](ir::Op& op) {
    if (!planned && ir::memPlan(op).offsets.size() == 1 && ir::memPlan(op).offsets[0] >= 0) planned = &op;
  });
  ASSERT_TRUE(planned);
  const std::string opName(planned->name());
  ir::setMemOffsets(*planned, {arena->bytes});
  fs::create_directories(repo / "edited" / "1");
  fs::copy_file(repo / "loop" / "config.pbtxt", repo / "edited" / "config.pbtxt");
  {
    std::ifstream in(repo / "edited" / "config.pbtxt");
    std::stringstream config;
    config << in.rdbuf();
    std::string text = config.str();
    text.replace(text.find("name: \"loop\""), 12, "name: \"edited\"");
    std::ofstream(repo / "edited" / "config.pbtxt") << text;
  }
  ASSERT_TRUE(runtime::saveArtifact(compiled->artifact, (repo / "edited" / "1" / "model.cocktail").string()).ok());

  ServerProcess server(repo, {"--model-control-mode", "explicit", "--load-model", "*", "--cache-dir", cacheDir()});
  ASSERT_GT(server.grpcPort, 0) << "the server did not start";
  auto stub = server.stub();
  grpc::ClientContext ctx;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub->RepositoryIndex(&ctx, {}, &index).ok());
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> byName;
  for (const auto& m : index.models()) byName[m.name()] = m;
  EXPECT_EQ(byName["edited"].state(), "UNAVAILABLE");
  const std::string& reason = byName["edited"].reason();
  for (const std::string& part : {std::string("model.cocktail"), "'" + opName + "' op", std::string("attribute 'mem'"),
                                  std::string("outside the")})
    EXPECT_NE(reason.find(part), std::string::npos) << "reason: " << reason;
  EXPECT_EQ(byName["loop"].state(), "READY");
  ModelInferResponse resp;
  ASSERT_TRUE(infer(*stub, loopRequest(gCases[2]), &resp).ok());
  expectClose(floats(resp.raw_output_contents(0)), gCases[2].out);
}

/// Copies the test repository's `from` model as `to`, its config.pbtxt
/// renamed and then edited by `edit`.
void copyModel(const fs::path& repo, const std::string& from, const std::string& to,
               const std::function<void(std::string&)>& edit = {}) {
  fs::copy(gRepo / "repo" / from, repo / to, fs::copy_options::recursive);
  std::ifstream in(repo / to / "config.pbtxt");
  std::stringstream config;
  config << in.rdbuf();
  std::string text = config.str();
  const std::string name = "name: \"" + from + "\"";
  text.replace(text.find(name), name.size(), "name: \"" + to + "\"");
  if (edit) edit(text);
  std::ofstream(repo / to / "config.pbtxt") << text;
}

TEST(ServerModes, KindGpuWithoutAGpuIsUnavailableWithTheReasonAndTheOthersServe) {
#if COCKTAIL_HAVE_CUDA
  if (runtime::cuda::queryCudaDevice().available)
    GTEST_SKIP() << "this machine has a GPU: scripts/gpu-check.sh serves KIND_GPU on it";
  const char* const why = "KIND_GPU, but there is no GPU to run it on";
#else
  const char* const why = "built without CUDA";
#endif
  fs::path repo = gRepo / "kindgpu";
  fs::create_directories(repo);
  copyModel(repo, "loop", "loop");
  copyModel(repo, "loop", "loop_gpu", [](std::string& text) {
    ASSERT_NE(text.find("kind: KIND_CPU"), std::string::npos);
    text.replace(text.find("kind: KIND_CPU"), 14, "kind: KIND_GPU gpus: [ 0 ]");
  });
  ServerProcess server(repo, {"--model-control-mode", "explicit", "--load-model", "*", "--cache-dir", cacheDir()});
  ASSERT_GT(server.grpcPort, 0) << "the server did not start";
  auto stub = server.stub();
  auto expectReason = [&](const std::string& text, const std::string& what) {
    for (const char* part : {"model 'loop_gpu'", "instance_group 0", why})
      EXPECT_NE(text.find(part), std::string::npos) << what << ": " << text;
  };
  // The index, the log and a load request all say why; never a quiet CPU instead.
  grpc::ClientContext ctx;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub->RepositoryIndex(&ctx, {}, &index).ok());
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> byName;
  for (const auto& m : index.models()) byName[m.name()] = m;
  EXPECT_EQ(byName["loop_gpu"].state(), "UNAVAILABLE");
  expectReason(byName["loop_gpu"].reason(), "index");
  const size_t logged = server.startupLog.find("model 'loop_gpu' is UNAVAILABLE");
  ASSERT_NE(logged, std::string::npos) << server.startupLog;
  expectReason(server.startupLog.substr(logged, server.startupLog.find('\n', logged) - logged), "log");
  grpc::ClientContext loadCtx;
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("loop_gpu");
  inference::RepositoryModelLoadResponse loaded;
  grpc::Status s = stub->RepositoryModelLoad(&loadCtx, load, &loaded);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  expectReason(s.error_message(), "load response");
  ModelInferResponse resp;
  s = infer(*stub, loopRequest(gCases[0], "loop_gpu"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(byName["loop"].state(), "READY");
  ASSERT_TRUE(infer(*stub, loopRequest(gCases[1]), &resp).ok());
  expectClose(floats(resp.raw_output_contents(0)), gCases[1].out);
}

// A model whose instances would not fit its memory limit is refused before
// they allocate anything, with its estimate and the limit in the index and
// the log; the other models load and serve.
TEST(ServerModes, AModelOverItsMemoryLimitIsUnavailableWithTheEstimateAndTheOthersServe) {
  fs::path repo = gRepo / "memory";
  fs::create_directories(repo);
  copyModel(repo, "loop", "loop");
  // The same model with 64 instances instead of 2: 32 times the arenas.
  copyModel(repo, "loop", "wide", [](std::string& text) {
    ASSERT_NE(text.find("count: 2"), std::string::npos);
    text.replace(text.find("count: 2"), 8, "count: 64");
  });
  copyModel(repo, "loop", "unreadable", [](std::string& text) {
    text += "parameters { key: \"cocktail.memory_limit\" value { string_value: \"lots\" } }\n";
  });
  // What the server will estimate for `loop` (compiled as the server compiles it):
  // the server's limit admits its 2 instances and not 64.
  driver::CompileOptions options;
  options.inputSpecs = {"xs:f32[T<=16,4]", "steps:i64"};
  options.target = "cpu";
  auto compiled = driver::compileTorchScript((repo / "loop" / "1" / "model.pt").string(), options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().str();
  const runtime::MemoryEstimate estimate = runtime::estimateCpuMemory(*compiled->artifact.program);
  ASSERT_GT(estimate.arenaBytes, 0);
  const int64_t limit = estimate.total(2);
  // Its own limit, one byte below what it needs.
  const int64_t ownLimit = limit - 1;
  copyModel(repo, "loop", "capped", [&](std::string& text) {
    text +=
        "parameters { key: \"cocktail.memory_limit\" value { string_value: \"" + std::to_string(ownLimit) + "\" } }\n";
  });

  ServerProcess server(repo, {"--model-control-mode", "explicit", "--load-model", "*", "--cache-dir", cacheDir(),
                              "--model-memory-limit", std::to_string(limit)});
  ASSERT_GT(server.grpcPort, 0) << "the server did not start";
  auto stub = server.stub();
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> byName;
  {
    grpc::ClientContext ctx;
    inference::RepositoryIndexResponse index;
    ASSERT_TRUE(stub->RepositoryIndex(&ctx, {}, &index).ok());
    for (const auto& m : index.models()) byName[m.name()] = m;
  }
  EXPECT_EQ(byName["loop"].state(), "READY");
  EXPECT_EQ(byName["wide"].state(), "UNAVAILABLE");
  const std::string wideReason = byName["wide"].reason();
  for (const std::string& part :
       {std::string("model 'wide' version 1"), "estimated " + runtime::describeBytes(estimate.total(64)),
        std::string("64 instance(s)"), "memory limit of " + runtime::describeBytes(limit),
        std::string("(--model-memory-limit)")})
    EXPECT_NE(wideReason.find(part), std::string::npos) << "missing '" << part << "' in: " << wideReason;
  EXPECT_NE(server.startupLog.find("model 'wide' is UNAVAILABLE: " + wideReason), std::string::npos)
      << server.startupLog;
  EXPECT_EQ(byName["capped"].state(), "UNAVAILABLE");
  const std::string cappedReason = byName["capped"].reason();
  for (const std::string& part : {std::string("model 'capped' version 1"), "estimated " + runtime::describeBytes(limit),
                                  "memory limit of " + runtime::describeBytes(ownLimit),
                                  std::string("(config.pbtxt parameter cocktail.memory_limit)")})
    EXPECT_NE(cappedReason.find(part), std::string::npos) << "missing '" << part << "' in: " << cappedReason;
  EXPECT_EQ(byName["unreadable"].state(), "UNAVAILABLE");
  EXPECT_NE(byName["unreadable"].reason().find("cocktail.memory_limit: 'lots' is not a byte count"), std::string::npos)
      << byName["unreadable"].reason();

  // A load asked for over gRPC is refused the same way.
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest r;
    r.set_model_name("wide");
    inference::RepositoryModelLoadResponse resp;
    grpc::Status s = stub->RepositoryModelLoad(&ctx, r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_NE(s.error_message().find("memory limit"), std::string::npos) << s.error_message();
  }
  ModelInferResponse resp;
  ASSERT_TRUE(infer(*stub, loopRequest(gCases[1]), &resp).ok());
  expectClose(floats(resp.raw_output_contents(0)), gCases[1].out);
  grpc::Status refused = infer(*stub, loopRequest(gCases[1], "wide"), &resp);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_NE(refused.error_message().find("memory limit"), std::string::npos) << refused.error_message();
}

TEST(ServerModes, AModelMemoryLimitThatIsNotAByteCountIsAUsageError) {
  const std::string cmd = std::string(COCKTAIL_SERVE_BINARY) + " --model-repository " + (gRepo / "repo").string() +
                          " --model-memory-limit 12XB 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_TRUE(pipe);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << out;
  EXPECT_NE(out.find("--model-memory-limit: '12XB' is not a byte count"), std::string::npos) << out;
}

TEST(ServerModes, SigtermDrainsAcceptedRequestsThenExitsZero) {
  ServerProcess server(gRepo / "repo", {"--cache-dir", cacheDir()});
  ASSERT_GT(server.grpcPort, 0);
  LoopCase slow = gCases[1];
  slow.steps = 1500;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&] {
      auto stub = server.stub();
      ModelInferResponse resp;
      if (infer(*stub, loopRequest(slow), &resp).ok()) ++ok;
      else ++failed;
    });
  std::this_thread::sleep_for(settleTime(100));
  EXPECT_EQ(server.terminate(), 0);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(failed.load(), 0);
}

}  // namespace
