//===- tests/server/ServerHarness.h - cocktail-serve as the server tests drive it --------===//
//
// A real cocktail-serve process on loopback ports, the repository that
// make_repository.py writes with its expected outputs, and the requests and
// checks the server tests share (server_test, server_soak_test).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "grpc_service.grpc.pb.h"

namespace serve_harness {

namespace fs = std::filesystem;
using inference::GRPCInferenceService;
using inference::ModelInferRequest;
using inference::ModelInferResponse;

/// A wait meant to let requests reach the server before the test goes on
/// (a SIGTERM with requests in flight): longer under a sanitizer, where the
/// server runs several times slower and a fixed 100 ms let the signal
/// overtake requests on a loaded machine.
inline std::chrono::milliseconds settleTime(int ms) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return std::chrono::milliseconds(ms * 10);
#else
  return std::chrono::milliseconds(ms);
#endif
}

/// A cocktail-serve process; the ports come from its "listening:" line.
class ServerProcess {
 public:
  ServerProcess(const fs::path& repo, std::vector<std::string> extra) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::vector<std::string> args = {COCKTAIL_SERVE_BINARY, "--model-repository", repo.string(), "--grpc-port", "0",
                                       "--metrics-port", "0", "--grpc-address", "127.0.0.1", "--metrics-address", "127.0.0.1",
                                       "--http-port", "0", "--http-address", "127.0.0.1"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    // Read lines until the listening line (model loads come first).
    std::string& text = startupLog;
    char c;
    while (read(out[0], &c, 1) == 1) {
      text += c;
      if (c == '\n' && text.find("listening:") != std::string::npos) break;
    }
    startupLog = text;
    // Keep reading what it prints (its log): a full pipe would block the
    // server on its next log line.
    drain_ = std::thread([fd = out[0]] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
      close(fd);
    });
    auto h = text.find("http 127.0.0.1:");
    if (h != std::string::npos) httpPort = std::atoi(text.c_str() + h + 15);
    auto g = text.find("grpc 127.0.0.1:");
    auto m = text.find("metrics 127.0.0.1:");
    if (g != std::string::npos) grpcPort = std::atoi(text.c_str() + g + 15);
    if (m != std::string::npos) metricsPort = std::atoi(text.c_str() + m + 18);
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (drain_.joinable()) drain_.join();  // the pipe closes with the process
  }
  /// SIGTERM, then the exit status.
  int terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (drain_.joinable()) drain_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }
  /// The process's resident set size (VmRSS), in bytes; 0 once it has exited.
  int64_t residentBytes() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
    return 0;
  }
  std::unique_ptr<GRPCInferenceService::Stub> stub() const {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    return GRPCInferenceService::NewStub(
        grpc::CreateCustomChannel(fmt("127.0.0.1:" + std::to_string(grpcPort)), grpc::InsecureChannelCredentials(), args));
  }
  static std::string fmt(std::string s) { return s; }
  int httpPort = 0, grpcPort = 0, metricsPort = 0;
  /// What it printed up to its listening line: the log of the startup loads.
  std::string startupLog;

 private:
  pid_t pid_ = -1;
  std::thread drain_;
};

/// One `loop` case from expected.txt.
struct LoopCase {
  int64_t t = 0, steps = 0;
  std::vector<float> xs, out;
};

inline void addRaw(ModelInferRequest& r, const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
            const void* data, size_t bytes) {
  auto* in = r.add_inputs();
  in->set_name(name);
  in->set_datatype(dtype);
  for (int64_t d : shape) in->add_shape(d);
  r.add_raw_input_contents()->assign(static_cast<const char*>(data), bytes);
}

inline ModelInferRequest loopRequest(const LoopCase& c, const std::string& model = "loop") {
  ModelInferRequest r;
  r.set_model_name(model);
  r.set_id("case");
  addRaw(r, "xs", "FP32", {c.t, 4}, c.xs.data(), c.xs.size() * 4);
  addRaw(r, "steps", "INT64", {1}, &c.steps, 8);
  return r;
}

inline ModelInferRequest addmulRequest(int64_t b, float x, float y) {
  ModelInferRequest r;
  r.set_model_name("addmul");
  std::vector<float> xs(b * 4, x), ys(b * 4, y);
  addRaw(r, "x", "FP32", {b, 4}, xs.data(), xs.size() * 4);
  addRaw(r, "INPUT__1", "FP32", {b, 4}, ys.data(), ys.size() * 4);
  return r;
}

inline std::vector<float> floats(const std::string& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

inline void expectClose(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(b[i]))) << "element " << i;
}

inline grpc::Status infer(GRPCInferenceService::Stub& stub, const ModelInferRequest& req, ModelInferResponse* resp,
                   int timeoutMs = 30000) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeoutMs));
  return stub.ModelInfer(&ctx, req, resp);
}

inline std::string httpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
  std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  close(fd);
  return out;
}

/// The value of one Prometheus series, or -1.
inline double metric(const std::string& text, const std::string& series) {
  auto pos = text.find(series + " ");
  return pos == std::string::npos ? -1 : std::atof(text.c_str() + pos + series.size() + 1);
}

/// Writes the test repository into `dir` (make_repository.py, with the
/// system Python and PyTorch) and returns the `loop` cases of its
/// expected.txt; a failure is a test failure.
inline std::vector<LoopCase> writeRepository(const fs::path& dir) {
  std::string cmd = std::string(COCKTAIL_PYTHON_BINARY) + " " + COCKTAIL_SERVER_TEST_DIR + "/make_repository.py " +
                    dir.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<LoopCase> cases;
  std::ifstream in(dir / "expected.txt");
  for (LoopCase c; in >> c.t >> c.steps;) {
    c.xs.resize(c.t * 4);
    c.out.resize(4);
    for (float& v : c.xs) in >> v;
    for (float& v : c.out) in >> v;
    cases.push_back(c);
  }
  EXPECT_EQ(cases.size(), 4u);
  return cases;
}

/// Compiled models are cached across test processes.
inline std::string cacheDir() { return COCKTAIL_SERVER_TEST_CACHE; }

}  // namespace serve_harness
