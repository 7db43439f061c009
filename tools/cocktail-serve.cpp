//===- tools/cocktail-serve.cpp - The KServe v2 / Triton inference server -------------===//
//
//   cocktail-serve --model-repository DIR [--http-port 8000] [--grpc-port 8001] [--metrics-port 8002]
//                  [--model-control-mode none|explicit|poll] [--load-model NAME]...
//
// Flags have Triton's names where Triton has the flag, so a tritonserver
// command line (KServe's ServingRuntime, Triton's Helm chart) starts it
// unchanged; a flag it does not know is refused by name. SIGTERM (or SIGINT)
// stops taking requests, answers the accepted ones, and exits 0.
//
//===----------------------------------------------------------------------===//
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/Artifact.h"
#include "server/GrpcServer.h"
#include "server/HttpServer.h"
#include "server/Metrics.h"
#include "server/ModelConfig.h"
#include "server/ModelMemory.h"
#include "server/Repository.h"

using namespace cocktail;

namespace {

int gStopPipe[2] = {-1, -1};

extern "C" void onStopSignal(int sig) {
  const char byte = static_cast<char>(sig);
  const int saved = errno;
  (void)!write(gStopPipe[1], &byte, 1);
  errno = saved;
}

std::string defaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/cocktail-serve";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/cocktail-serve";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Serve TorchScript models, compiled by Cocktail, over the KServe v2 / Triton protocol:\n"
      "HTTP/REST (with Triton's binary tensor data) and gRPC. Existing tritonclient (http and grpc),\n"
      "perf_analyzer and KServe clients work unchanged, and so do tritonserver's flags.\n\n"
      "A model repository is Triton's layout:\n"
      "  models/loop/config.pbtxt      name, max_batch_size, input, output, instance_group,\n"
      "                                dynamic_batching, model_warmup, parameters (protobuf text format)\n"
      "                                instance_group kind KIND_GPU runs the model on the GPU (CUDA);\n"
      "                                KIND_CPU and KIND_AUTO on the CPU\n"
      "  models/loop/1/model.pt        TorchScript; compiled on load (and cached), or\n"
      "  models/loop/1/model.cocktail  an artifact written by cocktail-compile\n"
      "Input specs for compiling model.pt go in config.pbtxt, as cocktail-compile's --input:\n"
      "  parameters { key: \"cocktail.inputs\" value { string_value: \"xs:f32[T<=128,4] steps:i64\" } }\n\n"
      "Example:\n"
      "  cocktail-serve --model-repository models --http-port 8000 --grpc-port 8001 --metrics-port 8002\n"
      "  curl -f localhost:8000/v2/health/ready",
      "cocktail-serve"};
  app.set_version_flag("--version", runtime::compilerVersion());
  std::string repository, controlMode = "none", grpcAddress = "0.0.0.0", metricsAddress = "0.0.0.0", httpAddress = "0.0.0.0";
  std::string cacheDir = defaultCacheDir();
  const int64_t defaultMemoryLimit = server::defaultModelMemoryLimit();
  std::string modelMemoryLimit = std::to_string(defaultMemoryLimit);
  std::vector<std::string> loadModels;
  int httpPort = 8000, grpcPort = 8001, metricsPort = 8002, pollSecs = 15, exitTimeoutSecs = 30, grpcThreads = 2;
  // cpp-httplib serves a connection on one pool thread for as long as the
  // client keeps it open, so this bounds the clients served at once: room
  // for perf_analyzer's and a load balancer's pools, not Triton's 8.
  int httpThreads = 64, verbose = 0;
  int64_t maxMessage = INT32_MAX, httpMaxInput = int64_t{64} << 20, defaultDimBound = server::kDefaultDimBound,
          maxDimBound = server::kDefaultMaxDimBound;
  uint32_t maxQueue = 1024;
  bool allowMetrics = true, allowHttp = true, allowGrpc = true, strictReadiness = false;
  app.add_option("--model-repository,--model-store", repository,
                 "The model repository folder: one folder per model (--model-store is Triton's other name),\n"
                 "e.g. --model-repository models")
      ->required();
  app.add_option("--allow-http", allowHttp, "Serve HTTP/REST (default true), e.g. --allow-http=false");
  app.add_option("--http-port", httpPort,
                 "Port of the HTTP/REST service (default 8000; 0 picks a free one), e.g. --http-port 8080")
      ->check(CLI::Range(0, 65535));
  app.add_option("--http-address", httpAddress, "Address the HTTP service binds (default 0.0.0.0), e.g. --http-address 127.0.0.1");
  app.add_option("--http-thread-count", httpThreads,
                 "HTTP connections served at once, each on a thread of its own while the client keeps it open "
                 "(default 64), e.g. --http-thread-count 128")
      ->check(CLI::Range(1, 1024));
  app.add_option("--http-max-input-size", httpMaxInput,
                 "Largest HTTP request body in bytes, after decompression; larger ones get 413 (default 67108864),\n"
                 "e.g. --http-max-input-size 1048576")
      ->check(CLI::Range(int64_t{1024}, int64_t{INT32_MAX}));
  app.add_option("--allow-grpc", allowGrpc, "Serve gRPC (default true), e.g. --allow-grpc=false");
  app.add_option("--grpc-port", grpcPort, "Port of the gRPC service (default 8001; 0 picks a free one), e.g. --grpc-port 9001")
      ->check(CLI::Range(0, 65535));
  app.add_option("--grpc-address", grpcAddress, "Address the gRPC service binds (default 0.0.0.0), e.g. --grpc-address 127.0.0.1");
  app.add_option("--allow-metrics", allowMetrics, "Serve Prometheus metrics (default true), e.g. --allow-metrics false");
  app.add_option("--metrics-port", metricsPort,
                 "Port of the Prometheus metrics, served at /metrics (default 8002; 0 picks a free one), e.g. --metrics-port 9002")
      ->check(CLI::Range(0, 65535));
  app.add_option("--metrics-address", metricsAddress, "Address the metrics endpoint binds (default 0.0.0.0)");
  app.add_option("--model-control-mode", controlMode,
                 "none: load every model at start, no loads or unloads (default);\n"
                 "explicit: load the --load-model ones at start, then load/unload requests;\n"
                 "poll: load every model, then rescan every --repository-poll-secs for new, changed and removed ones;\n"
                 "e.g. --model-control-mode explicit --load-model loop")
      ->check(CLI::IsMember({"none", "explicit", "poll"}));
  app.add_option("--repository-poll-secs", pollSecs, "Poll mode: seconds between rescans (default 15), e.g. --repository-poll-secs 5")
      ->check(CLI::PositiveNumber);
  app.add_option("--load-model", loadModels,
                 "Explicit mode: a model to load at start; repeat for more, '*' for all, e.g. --load-model loop --load-model addmul");
  app.add_option("--strict-readiness", strictReadiness,
                 "true: the server is ready (/v2/health/ready, ServerReady) only while every model asked for is READY;\n"
                 "false (default): ready while it serves, whatever a model's state, e.g. --strict-readiness=true");
  app.add_option("--exit-timeout-secs", exitTimeoutSecs,
                 "On SIGTERM, how long to wait for accepted requests to be answered (default 30), e.g. --exit-timeout-secs 10")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--grpc-max-message-size", maxMessage,
                 "Largest gRPC request or response in bytes (default 2147483647), e.g. --grpc-max-message-size 67108864")
      ->check(CLI::Range(int64_t{1024}, int64_t{INT32_MAX}));
  app.add_option("--grpc-threads", grpcThreads, "Completion-queue threads that parse and validate gRPC requests (default 2)")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-queue-size", maxQueue,
                 "Requests a model may hold waiting before RESOURCE_EXHAUSTED, when its config.pbtxt gives no\n"
                 "dynamic_batching.default_queue_policy.max_queue_size (default 1024), e.g. --max-queue-size 64")
      ->check(CLI::PositiveNumber);
  app.add_option("--default-dim-bound", defaultDimBound,
                 "The bound a config.pbtxt's -1 dim is compiled for when parameters cocktail.inputs gives none\n"
                 "(default 128); a request above it has the model recompiled for the next power of two, up to\n"
                 "--max-dim-bound, e.g. --default-dim-bound 512")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--max-dim-bound", maxDimBound,
                 "The largest bound a -1 dim is recompiled for when a request is above its bound (default 4096);\n"
                 "a larger dim is refused with this limit, e.g. --max-dim-bound 16384")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option(
      "--model-memory-limit", modelMemoryLimit,
      fmt::format("What one model (all its versions and instances) may hold, estimated before it loads: its\n"
                  "weights, and per instance its arena and packed weights; a model above it is UNAVAILABLE\n"
                  "with the estimate. Bytes or K/M/G/T (binary); a config.pbtxt may lower it with the\n"
                  "parameter {}. 0: no limit. Default: half the physical memory ({} bytes here),\n"
                  "e.g. --model-memory-limit 8GiB",
                  server::kMemoryLimitParameter, defaultMemoryLimit));
  app.add_option("--cache-dir", cacheDir,
                 "Where compiled model.pt files are cached by content hash and compiler version\n"
                 "(default $XDG_CACHE_HOME/cocktail-serve or ~/.cache/cocktail-serve; '' disables), e.g. --cache-dir /var/cache/cocktail");
  app.add_flag("--log-verbose", verbose,
               "Log every load step and request failure; Triton's level: --log-verbose=1 (or just --log-verbose), 0 is off");
  // Triton takes "--log-verbose 1" as well as "--log-verbose=1"; a CLI11 flag
  // takes only the second, so a count after the flag is joined to it.
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--log-verbose" && !args[i + 1].empty() &&
        args[i + 1].find_first_not_of("0123456789") == std::string::npos)
      args[i] += "=" + args[i + 1], args.erase(args.begin() + static_cast<long>(i) + 1);
  std::reverse(args.begin(), args.end());  // CLI11 parses a vector from its back
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Before anything starts: a usage error binds no port.
  auto memoryLimit = server::parseByteSize(modelMemoryLimit, "--model-memory-limit");
  if (!memoryLimit) {
    fmt::print(stderr, "cocktail-serve: {}\n", memoryLimit.status().message());
    return 2;
  }
  spdlog::set_pattern("cocktail-serve: %L %v");
  spdlog::set_level(verbose > 0 ? spdlog::level::debug : spdlog::level::info);

  // SIGTERM and SIGINT become a byte on a pipe that main waits on below.
  // A handler, not sigwait alone: threads that libraries started before main
  // (OpenBLAS's) do not block them, and a signal delivered to one of those
  // before main waits would otherwise kill the process instead of draining it.
  if (pipe2(gStopPipe, O_CLOEXEC) != 0) {
    fmt::print(stderr, "cocktail-serve: cannot create the signal pipe\n");
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // The threads started below (gRPC, HTTP, models) inherit this mask: signals
  // do not interrupt their system calls. Main unblocks them once it waits.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::Metrics metrics;
  if (allowMetrics) {
    server::Status s = metrics.serve(fmt::format("{}:{}", metricsAddress, metricsPort));
    if (!s.ok()) {
      fmt::print(stderr, "cocktail-serve: {}\n", s.message());
      return 1;
    }
  }
  server::RepositoryOptions ro;
  ro.root = repository;
  ro.mode = controlMode == "explicit" ? server::ControlMode::Explicit
            : controlMode == "poll"   ? server::ControlMode::Poll
                                      : server::ControlMode::None;
  ro.startupModels = loadModels;
  ro.cacheDir = cacheDir;
  ro.maxQueueSize = maxQueue;
  ro.defaultDimBound = defaultDimBound;
  ro.maxDimBound = std::max(maxDimBound, defaultDimBound);
  ro.modelMemoryLimit = *memoryLimit;
  if (!loadModels.empty() && ro.mode != server::ControlMode::Explicit) {
    fmt::print(stderr, "cocktail-serve: --load-model needs --model-control-mode explicit\n");
    return 1;
  }
  server::Repository repo(ro, allowMetrics ? &metrics : nullptr);
  if (server::Status s = repo.loadStartupModels(); !s.ok()) {
    fmt::print(stderr, "cocktail-serve: {}\n", s.message());
    return 1;
  }

  server::ServiceCore core(repo, strictReadiness);
  std::unique_ptr<server::GrpcServer> grpcServer;
  if (allowGrpc) {
    server::GrpcServerOptions go;
    go.address = fmt::format("{}:{}", grpcAddress, grpcPort);
    go.maxMessageBytes = static_cast<int>(maxMessage);
    go.completionQueueThreads = grpcThreads;
    grpcServer = std::make_unique<server::GrpcServer>(core, go);
    if (server::Status s = grpcServer->start(); !s.ok()) {
      fmt::print(stderr, "cocktail-serve: {}\n", s.message());
      return 1;
    }
  }
  std::unique_ptr<server::HttpServer> httpServer;
  if (allowHttp) {
    server::HttpServerOptions ho;
    ho.address = httpAddress;
    ho.port = httpPort;
    ho.threads = httpThreads;
    ho.maxInputBytes = static_cast<size_t>(httpMaxInput);
    httpServer = std::make_unique<server::HttpServer>(core, ho);
    if (server::Status s = httpServer->start(); !s.ok()) {
      fmt::print(stderr, "cocktail-serve: {}\n", s.message());
      return 1;
    }
  }
  // Tests and scripts read the ports from this line.
  fmt::print("cocktail-serve: listening:");
  if (httpServer) fmt::print(" http {}:{}", httpAddress, httpServer->port());
  if (grpcServer) fmt::print(" grpc {}:{}", grpcAddress, grpcServer->port());
  if (allowMetrics) fmt::print(" metrics {}:{}/metrics", metricsAddress, metrics.port());
  fmt::print("\n");
  std::fflush(stdout);

  // Poll mode: rescan the repository on a thread of its own.
  std::mutex pollMu;
  std::condition_variable pollCv;
  bool stopPolling = false;
  std::thread poller;
  if (ro.mode == server::ControlMode::Poll)
    poller = std::thread([&] {
      std::unique_lock<std::mutex> lock(pollMu);
      while (!pollCv.wait_for(lock, std::chrono::seconds(pollSecs), [&] { return stopPolling; })) {
        lock.unlock();
        repo.poll();
        lock.lock();
      }
    });

  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  char received = 0;
  while (read(gStopPipe[0], &received, 1) < 0 && errno == EINTR) {
  }
  const int sig = received;
  spdlog::info("{}: draining (up to {} s)", sig == SIGTERM ? "SIGTERM" : "SIGINT", exitTimeoutSecs);
  // Both front ends drain through the core; gRPC also turns its health off first.
  int64_t left = grpcServer ? grpcServer->drainAndShutdown(std::chrono::seconds(exitTimeoutSecs))
                            : core.drain(std::chrono::seconds(exitTimeoutSecs));
  if (httpServer) httpServer->stop();
  {
    std::lock_guard<std::mutex> lock(pollMu);
    stopPolling = true;
  }
  pollCv.notify_all();
  if (poller.joinable()) poller.join();
  repo.unloadAll();
  if (left > 0) {
    spdlog::error("{} requests were still running after --exit-timeout-secs {}", left, exitTimeoutSecs);
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}
