//===- server/Metrics.cpp ---------------------------------------------------------===//
#include "server/Metrics.h"

#include <exception>

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <prometheus/text_serializer.h>

namespace cocktail::server {
namespace {

prometheus::Family<prometheus::Counter>* counter(prometheus::Registry& r, const char* name, const char* help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  success_ = counter(r, "nv_inference_request_success", "Number of successful inference requests, all batch sizes");
  failure_ = counter(r, "nv_inference_request_failure", "Number of failed inference requests, all batch sizes");
  inferenceCount_ = counter(r, "nv_inference_count", "Number of inferences performed (a batch of n counts n)");
  execCount_ = counter(r, "nv_inference_exec_count", "Number of model executions performed (a batch counts 1)");
  requestUs_ = counter(r, "nv_inference_request_duration_us", "Cumulative inference request duration in microseconds");
  queueUs_ = counter(r, "nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds");
  inputUs_ = counter(r, "nv_inference_compute_input_duration_us", "Cumulative compute input duration in microseconds");
  inferUs_ = counter(r, "nv_inference_compute_infer_duration_us", "Cumulative compute inference duration in microseconds");
  outputUs_ = counter(r, "nv_inference_compute_output_duration_us", "Cumulative inference compute output duration in microseconds");
  pending_ = &prometheus::BuildGauge()
                  .Name("nv_inference_pending_request_count")
                  .Help("Instantaneous number of pending requests awaiting execution per-model")
                  .Register(r);
}

Metrics::~Metrics() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listenFd_ >= 0) close(listenFd_);
}

std::unique_ptr<ModelMetrics> Metrics::forModel(const std::string& model, const std::string& version) {
  prometheus::Labels labels{{"model", model}, {"version", version}};
  auto m = std::make_unique<ModelMetrics>();
  m->owner_ = this;
  m->key_ = {model, version};
  {
    // A reload shares the series of the version it replaces (Add returns the
    // existing ones): counters keep counting, and the last holder removes them.
    std::lock_guard<std::mutex> lock(refsMu_);
    ++refs_[m->key_];
  }
  m->success = &success_->Add(labels);
  m->failure = &failure_->Add(labels);
  m->inferenceCount = &inferenceCount_->Add(labels);
  m->execCount = &execCount_->Add(labels);
  m->requestUs = &requestUs_->Add(labels);
  m->queueUs = &queueUs_->Add(labels);
  m->inputUs = &inputUs_->Add(labels);
  m->inferUs = &inferUs_->Add(labels);
  m->outputUs = &outputUs_->Add(labels);
  m->pending = &pending_->Add(labels);
  return m;
}

ModelMetrics::~ModelMetrics() {
  if (!owner_) return;
  {
    std::lock_guard<std::mutex> lock(owner_->refsMu_);
    if (--owner_->refs_[key_] > 0) return;
    owner_->refs_.erase(key_);
  }
  owner_->success_->Remove(success);
  owner_->failure_->Remove(failure);
  owner_->inferenceCount_->Remove(inferenceCount);
  owner_->execCount_->Remove(execCount);
  owner_->requestUs_->Remove(requestUs);
  owner_->queueUs_->Remove(queueUs);
  owner_->inputUs_->Remove(inputUs);
  owner_->inferUs_->Remove(inferUs);
  owner_->outputUs_->Remove(outputUs);
  owner_->pending_->Remove(pending);
}

// The endpoint is a small HTTP/1.0 responder on a thread of its own:
// prometheus-cpp's civetweb Exposer cannot start its threads in a process
// that also holds LibTorch and OpenBLAS (pthread_create fails with EINVAL),
// and a scrape needs nothing more than GET /metrics.
Status Metrics::serve(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "0.0.0.0" : address.substr(0, colon);
  int port = std::atoi(address.c_str() + (colon == std::string::npos ? 0 : colon + 1));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return invalidArgument(fmt::format("cannot serve metrics on {}: '{}' is not an IPv4 address", address, host));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    return unavailable(fmt::format("cannot serve metrics on {}: {}", address, std::strerror(err)));
  }
  listenFd_ = fd;
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { acceptLoop(); });
  return Status::success();
}

void Metrics::acceptLoop() {
  for (;;) {
    pollfd p{listenFd_, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (stopping_.load()) return;
    if (r <= 0) continue;
    int client = accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    timeval tv{2, 0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    // Read the request head (up to the blank line, 8 KiB at most).
    std::string head;
    char buf[1024];
    while (head.size() < 8192 && head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    std::string response;
    if (head.rfind("GET /metrics", 0) == 0 || head.rfind("GET / ", 0) == 0) {
      std::string body = render();
      response = fmt::format("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n"
                             "Connection: close\r\n\r\n{}", body.size(), body);
    } else {
      response = "HTTP/1.0 404 Not Found\r\nContent-Length: 20\r\nConnection: close\r\n\r\nonly GET /metrics\r\n\r\n";
    }
    for (size_t sent = 0; sent < response.size();) {
      ssize_t n = send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    close(client);
  }
}

int Metrics::port() const { return port_; }

std::string Metrics::render() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace cocktail::server
