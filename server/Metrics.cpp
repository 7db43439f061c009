//===- server/Metrics.cpp ---------------------------------------------------------===//
#include "server/Metrics.h"

#include <fmt/format.h>
#include <httplib.h>
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
  gpuMemoryTotal_ =
      &prometheus::BuildGauge().Name("nv_gpu_memory_total_bytes").Help("GPU total memory, in bytes").Register(r);
  gpuMemoryUsed_ =
      &prometheus::BuildGauge().Name("nv_gpu_memory_used_bytes").Help("GPU used memory, in bytes").Register(r);
}

Metrics::~Metrics() {
  if (!thread_.joinable()) return;
  // cpp-httplib's stop() does nothing until the listen has begun: a server
  // stopped right after serve() (cocktail-serve refusing a later flag) then
  // listened for good and the exit hung. Stop it once it has begun.
  while (!http_->is_running() && !listenEnded_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
  thread_.join();
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

// (prometheus-cpp's own civetweb Exposer cannot start its threads in a
// process that also holds LibTorch and OpenBLAS: pthread_create fails with
// EINVAL; cpp-httplib's std::threads start.)
Status Metrics::serve(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "0.0.0.0" : address.substr(0, colon);
  int port = std::atoi(address.c_str() + (colon == std::string::npos ? 0 : colon + 1));
  http_ = std::make_unique<httplib::Server>();
  http_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  http_->set_tcp_nodelay(true);  // as the REST front end (HttpServer.cpp)
  auto scrape = [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(), "text/plain; version=0.0.4");
  };
  http_->Get("/metrics", scrape);
  http_->Get("/", scrape);
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    res.set_content("only GET /metrics\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  }));
  port_ = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    port_ = 0;
    http_.reset();
    return unavailable(fmt::format("cannot serve metrics on {} (in use, or not an address)", address));
  }
  thread_ = std::thread([this] {
    http_->listen_after_bind();
    listenEnded_.store(true);
  });
  return Status::success();
}

int Metrics::port() const { return port_; }

void Metrics::setGpuMemorySource(std::function<std::vector<GpuMemoryReading>()> source) {
  std::lock_guard<std::mutex> lock(gpuMu_);
  gpuSource_ = std::move(source);
}

std::string Metrics::render() const {
  {
    // The GPUs in use now: a GPU no model uses any more loses its series.
    std::lock_guard<std::mutex> lock(gpuMu_);
    std::vector<GpuMemoryReading> readings = gpuSource_ ? gpuSource_() : std::vector<GpuMemoryReading>{};
    std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> now;
    for (const GpuMemoryReading& g : readings) {
      auto it = gpuSeries_.find(g.uuid);
      auto series = it != gpuSeries_.end() ? it->second
                                           : std::pair{&gpuMemoryTotal_->Add({{"gpu_uuid", g.uuid}}),
                                                       &gpuMemoryUsed_->Add({{"gpu_uuid", g.uuid}})};
      series.first->Set(static_cast<double>(g.totalBytes));
      series.second->Set(static_cast<double>(g.usedBytes));
      now[g.uuid] = series;
    }
    for (const auto& [uuid, series] : gpuSeries_)
      if (!now.count(uuid)) gpuMemoryTotal_->Remove(series.first), gpuMemoryUsed_->Remove(series.second);
    gpuSeries_ = std::move(now);
  }
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace cocktail::server
