//===- server/GrpcServer.h - The KServe v2 / Triton gRPC frontend ----------------------===//
//
// inference.GRPCInferenceService and grpc.health.v1.Health on one port,
// served with gRPC's asynchronous API: every call is a small state machine
// (waiting -> running -> finishing) driven by completion-queue threads, and
// call objects with their request and response messages are recycled, not
// allocated per request. The completion-queue threads only parse, validate
// and enqueue; models run on their instance threads (server/Model.h) and
// loads and unloads on a control thread, so a slow compile never stalls
// inference.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <climits>
#include <memory>
#include <string>

#include "server/ServiceCore.h"
#include "server/Status.h"

namespace cocktail::server {

struct GrpcServerOptions {
  std::string address = "0.0.0.0:8001";  // port 0: any free port
  int maxMessageBytes = INT_MAX;         // both directions
  int completionQueueThreads = 2;
};

class GrpcServer {
 public:
  /// Requests go to `core`, which the HTTP front end may share.
  GrpcServer(ServiceCore& core, GrpcServerOptions options);
  ~GrpcServer();

  /// Binds and starts serving.
  Status start();
  /// The port bound by start().
  int port() const;

  /// Health NOT_SERVING, then the core's drain (ServiceCore::drain: inference
  /// UNAVAILABLE, readiness false, up to `timeout` for the accepted requests
  /// of both front ends), then shuts the server down. Returns the requests
  /// still in flight when it gave up waiting (0 after a clean drain).
  int64_t drainAndShutdown(std::chrono::milliseconds timeout);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cocktail::server
