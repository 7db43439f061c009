//===- server/HttpServer.h - The KServe v2 / Triton HTTP/REST frontend ----------------===//
//
// The REST half of the protocol, on cpp-httplib's server (Debian's
// libcpp-httplib-dev): a pool of threads, each serving one connection at a
// time. Every route decodes its request into the protocol's messages and
// calls the ServiceCore it shares with the gRPC front end, so both check and
// answer alike; errors are `{"error": "..."}` with the HTTP status of the
// Status's kind (httpStatus). Bodies are bounded (--http-max-input-size),
// chunked, compressed or not.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/ServiceCore.h"
#include "server/Status.h"

namespace cocktail::server {

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  int port = 8000;  // 0: any free port
  int threads = 8;  // connections served at once
  size_t maxInputBytes = size_t{64} << 20;
};

/// The HTTP status of a server error, as Triton's HTTP endpoint answers it.
int httpStatus(Status::Code code);

class HttpServer {
 public:
  HttpServer(ServiceCore& core, HttpServerOptions options);
  ~HttpServer();

  /// Binds, then serves on a thread of its own.
  Status start();
  int port() const;
  /// Stops listening and joins the server's threads (call after the core drained).
  void stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cocktail::server
