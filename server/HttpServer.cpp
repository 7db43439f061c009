//===- server/HttpServer.cpp -------------------------------------------------------===//
#include "server/HttpServer.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "server/ProtoJson.h"
#include "server/RestInfer.h"

namespace cocktail::server {

int httpStatus(Status::Code code) {
  switch (code) {
    case Status::Code::Ok: return 200;
    case Status::Code::InvalidArgument: return 400;
    case Status::Code::NotFound: return 404;
    case Status::Code::Unavailable: return 503;
    case Status::Code::ResourceExhausted: return 429;
    case Status::Code::DeadlineExceeded: return 504;
    case Status::Code::Cancelled: return 499;  // nginx's "client closed request"; no client is there to read it
    case Status::Code::FailedPrecondition: return 400;
    case Status::Code::Unimplemented: return 501;
    case Status::Code::Internal: return 500;
  }
  return 500;
}

namespace {

using json = nlohmann::ordered_json;  // answers, keys in the order written
using RequestJson = nlohmann::json;  // requests: std::map, fast on many keys

/// Paths longer than this are refused before any pattern is matched
/// against them (std::regex recurses per character).
constexpr size_t kMaxPathBytes = 1024;

void reply(httplib::Response& res, const Status& s) {
  res.status = httpStatus(s.code());
  res.set_content(dumpJson(json{{"error", s.message()}}), "application/json");
}

void replyJson(httplib::Response& res, const json& body) { res.set_content(dumpJson(body), "application/json"); }

/// An accepted request waiting for its instance to answer it.
struct PendingInfer {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  static void finished(InferJob* job) {
    auto* p = static_cast<PendingInfer*>(job->owner);
    std::lock_guard<std::mutex> lock(p->mu);
    p->done = true;
    p->cv.notify_all();
  }
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServiceCore& core, HttpServerOptions options) : core_(core), options_(std::move(options)) {}

  Status start() {
    server_.new_task_queue = [n = options_.threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
    server_.set_payload_max_length(options_.maxInputBytes);
    // Clients (tritonclient, perf_analyzer) keep connections open; a small cap
    // (cpp-httplib's default is 5) would make them reconnect every few requests.
    server_.set_keep_alive_max_count(1000);
    // Headers and body go out in separate writes: with Nagle's algorithm and
    // the client's delayed ACK every response waited ~40 ms (measured with
    // perf_analyzer -i http: 45 ms per request for a 0.1 ms model).
    server_.set_tcp_nodelay(true);
    server_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.path.size() <= kMaxPathBytes) return httplib::Server::HandlerResponse::Unhandled;
      reply(res, invalidArgument(fmt::format("the path is {} bytes long; at most {}", req.path.size(), kMaxPathBytes)));
      res.status = 414;
      return httplib::Server::HandlerResponse::Handled;
    });
    server_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string message = res.status == 404 ? fmt::format("no route for {} {}", req.method, req.path)
                                              : fmt::format("HTTP {}: the request could not be read as HTTP/1.1 "
                                                            "(or is too large: a URI over 8 KiB, a header over 8 KiB)",
                                                            res.status);
      res.set_content(dumpJson(json{{"error", message}}), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
    server_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      spdlog::error("http: {}", what);
      reply(res, internalError(what));
    });
    routes();
    const char* host = options_.address.c_str();
    port_ = options_.port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, options_.port) ? options_.port : -1);
    if (port_ <= 0)
      return unavailable(fmt::format("cannot listen for HTTP on {}:{} (in use, or not an address)", options_.address, options_.port));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return Status::success();
  }

  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }

 private:
  using Reader = httplib::ContentReader;

  /// The body, read up to the size limit whatever its encoding (a length,
  /// chunks, gzip): past the limit the rest is read and dropped, so the
  /// connection stays in step, and the answer is 413.
  Status readBody(const httplib::Request& req, httplib::Response& res, const Reader& reader, std::string& body) {
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) return Status::success();
    size_t seen = 0;
    const size_t limit = options_.maxInputBytes;
    auto keep = [&](const char* data, size_t n) {
      seen += n;
      if (seen <= limit) body.append(data, n);
      return true;
    };
    bool ok = req.is_multipart_form_data() ? reader([](const httplib::MultipartFormData&) { return true; }, keep)
                                           : reader(keep);
    if (req.is_multipart_form_data()) return {Status::Code::InvalidArgument, "multipart/form-data bodies are not accepted; send JSON"};
    if (seen > limit || res.status == 413)
      return {Status::Code::ResourceExhausted,
              fmt::format("the request body is larger than --http-max-input-size ({} bytes)", limit)};
    if (!ok) return invalidArgument("the request body could not be read (cut short, or a bad encoding)");
    return Status::success();
  }

  /// Runs a POST handler on the body, answering a body that cannot be read.
  template <class Fn>
  auto withBody(Fn fn) {
    return [this, fn](const httplib::Request& req, httplib::Response& res, const Reader& reader) {
      std::string body;
      Status s = readBody(req, res, reader, body);
      if (!s.ok()) {
        reply(res, s);
        if (s.code() == Status::Code::ResourceExhausted) res.status = 413;
        if (req.is_multipart_form_data()) res.status = 415;
        return;
      }
      fn(req, res, body);
    };
  }

  static std::string version(const httplib::Request& req) { return req.matches.size() > 2 ? req.matches[2].str() : ""; }

  /// A small JSON body that may be empty, for the repository routes.
  static Status optionalJson(const std::string& body, RequestJson& out) {
    if (body.empty()) {
      out = RequestJson::object();
      return Status::success();
    }
    try {
      out = RequestJson::parse(body);
    } catch (const RequestJson::exception& e) {
      return invalidArgument(fmt::format("the request body is not valid JSON: {}", e.what()));
    }
    if (!out.is_object()) return invalidArgument("the request body must be a JSON object");
    return Status::success();
  }

  void routes() {
    const std::string model = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";
    server_.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    server_.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      if (core_.serverReady()) res.status = 200;
      else reply(res, unavailable(core_.draining() ? "the server is shutting down" : "a model is not ready (--strict-readiness)"));
    });
    server_.Get("/v2", [this](const httplib::Request&, httplib::Response& res) {
      inference::ServerMetadataResponse m;
      core_.serverMetadata(m);
      replyJson(res, protoToJson(m));
    });
    auto stats = [this](const httplib::Request& req, httplib::Response& res) {
      inference::ModelStatisticsResponse m;
      std::string name = req.matches.size() > 1 ? req.matches[1].str() : "";
      if (Status s = core_.statistics(name, version(req), m); !s.ok()) return reply(res, s);
      replyJson(res, protoToJson(m));
    };
    server_.Get("/v2/models/stats", stats);  // before the model routes: "stats" is no model
    server_.Get(model + "/stats", stats);
    server_.Get(model, [this](const httplib::Request& req, httplib::Response& res) {
      inference::ModelMetadataResponse m;
      if (Status s = core_.modelMetadata(req.matches[1], version(req), m); !s.ok()) return reply(res, s);
      json j = {{"name", m.name()}, {"versions", std::vector<std::string>(m.versions().begin(), m.versions().end())},
                {"platform", m.platform()}};
      for (const char* side : {"inputs", "outputs"}) {
        json list = json::array();
        for (const auto& t : side[0] == 'i' ? m.inputs() : m.outputs())
          list.push_back({{"name", t.name()}, {"datatype", t.datatype()},
                          {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())}});
        j[side] = std::move(list);
      }
      replyJson(res, j);
    });
    server_.Get(model + "/ready", [this](const httplib::Request& req, httplib::Response& res) {
      if (core_.draining()) return reply(res, unavailable("the server is shutting down"));
      auto found = core_.repository().find(req.matches[1], version(req));
      if (!found) return reply(res, found.status());
      res.status = 200;
    });
    server_.Get(model + "/config", [this](const httplib::Request& req, httplib::Response& res) {
      inference::ModelConfigResponse m;
      if (Status s = core_.modelConfig(req.matches[1], version(req), m); !s.ok()) return reply(res, s);
      replyJson(res, protoToJson(m.config()));
    });
    auto infer = withBody([this](const httplib::Request& req, httplib::Response& res, const std::string& body) {
      this->infer(req, res, body);
    });
    server_.Post(model + "/infer", infer);
    server_.Post("/v2/repository/index", withBody([this](const httplib::Request&, httplib::Response& res, const std::string& body) {
      RequestJson j;
      if (Status s = optionalJson(body, j); !s.ok()) return reply(res, s);
      auto ready = j.find("ready");
      if (ready != j.end() && !ready->is_boolean()) return reply(res, invalidArgument("\"ready\" must be true or false"));
      inference::RepositoryIndexResponse m;
      core_.index(ready != j.end() && ready->get<bool>(), m);
      json list = json::array();
      for (const auto& e : m.models()) {
        json entry = {{"name", e.name()}, {"state", e.state()}};
        if (!e.version().empty()) entry["version"] = e.version();
        if (!e.reason().empty()) entry["reason"] = e.reason();
        list.push_back(std::move(entry));
      }
      replyJson(res, list);
    }));
    for (const char* action : {"load", "unload"}) {
      const bool load = action[0] == 'l';
      server_.Post(fmt::format("/v2/repository/models/([^/]+)/{}", action),
                   withBody([this, load](const httplib::Request& req, httplib::Response& res, const std::string& body) {
                     RequestJson j;
                     if (Status s = optionalJson(body, j); !s.ok()) return reply(res, s);
                     google::protobuf::Map<std::string, inference::ModelRepositoryParameter> params;
                     if (auto p = j.find("parameters"); p != j.end()) {
                       if (!p->is_object()) return reply(res, invalidArgument("\"parameters\" must be a JSON object"));
                       for (const auto& [key, v] : p->items()) params[key].set_string_param(dumpJson(v));
                     }
                     const std::string name = req.matches[1];
                     if (Status s = core_.checkRepositoryRequest("", name, params); !s.ok()) return reply(res, s);
                     Status s = load ? core_.load(name) : core_.unload(name);
                     if (!s.ok()) return reply(res, s);
                     res.status = 200;
                   }));
    }
    // Triton's other extensions, as the gRPC front end answers them.
    auto unimplemented = [](const httplib::Request&, httplib::Response& res) {
      reply(res, {Status::Code::Unimplemented,
                  "cocktail-serve does not implement shared memory, trace or log settings; send tensors in the request"});
    };
    const std::string other = R"(/v2/(systemsharedmemory|cudasharedmemory|trace|logging)(/.*)?)";
    server_.Get(other, unimplemented);
    server_.Post(other, withBody([unimplemented](const httplib::Request& req, httplib::Response& res, const std::string&) {
      unimplemented(req, res);  // the body was read (bounded): the connection stays in step
    }));
  }

  void infer(const httplib::Request& req, httplib::Response& res, const std::string& body) {
    inference::ModelInferRequest request;
    RestOutputChoice choice;
    std::optional<std::string_view> headerLength;
    if (req.has_header("Inference-Header-Content-Length"))
      headerLength = req.get_header_value("Inference-Header-Content-Length");
    if (Status s = decodeRestInfer(body, headerLength, req.matches[1], version(req), request, choice); !s.ok())
      return reply(res, s);
    std::shared_ptr<Model> model;
    InferJob job;
    PendingInfer pending;
    if (Status s = core_.accept(request, Clock::time_point::max(), model, job, &PendingInfer::finished, &pending); !s.ok())
      return reply(res, s);
    {
      std::unique_lock<std::mutex> lock(pending.mu);
      pending.cv.wait(lock, [&] { return pending.done; });
    }
    inference::ModelInferResponse response;
    Status s = ServiceCore::respond(request, *model, job, response);
    core_.finishedOne();
    if (!s.ok()) return reply(res, s);
    RestBody out = encodeRestInfer(response, choice);
    if (out.jsonLength) {
      res.set_header("Inference-Header-Content-Length", std::to_string(*out.jsonLength));
      res.set_content(std::move(out.body), "application/octet-stream");
    } else {
      res.set_content(std::move(out.body), "application/json");
    }
  }

  ServiceCore& core_;
  HttpServerOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

HttpServer::HttpServer(ServiceCore& core, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(core, std::move(options))) {}
HttpServer::~HttpServer() { stop(); }
Status HttpServer::start() { return impl_->start(); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::stop() { impl_->stop(); }

}  // namespace cocktail::server
