//===- server/Metrics.h - Prometheus metrics with Triton's names ----------------------===//
//
// Counters and gauges per model and version, labelled {model, version} and
// named as Triton names them (nv_inference_request_success, ...), so existing
// dashboards work. Served as Prometheus text on their own port
// (`--metrics-port`, 8002 by default) under /metrics.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "server/Status.h"

namespace httplib {
class Server;
}

namespace cocktail::server {

class Metrics;

/// One GPU's memory, for nv_gpu_memory_total_bytes and nv_gpu_memory_used_bytes.
struct GpuMemoryReading {
  std::string uuid;  // the gpu_uuid label
  int64_t totalBytes = 0, usedBytes = 0;
};

/// One model version's time series; removed from the families when destroyed.
class ModelMetrics {
 public:
  ~ModelMetrics();
  prometheus::Counter* success = nullptr;        // nv_inference_request_success
  prometheus::Counter* failure = nullptr;        // nv_inference_request_failure
  prometheus::Counter* inferenceCount = nullptr; // nv_inference_count (batch elements)
  prometheus::Counter* execCount = nullptr;      // nv_inference_exec_count (executions)
  prometheus::Counter* requestUs = nullptr;      // nv_inference_request_duration_us
  prometheus::Counter* queueUs = nullptr;        // nv_inference_queue_duration_us
  prometheus::Counter* inputUs = nullptr;        // nv_inference_compute_input_duration_us
  prometheus::Counter* inferUs = nullptr;        // nv_inference_compute_infer_duration_us
  prometheus::Counter* outputUs = nullptr;       // nv_inference_compute_output_duration_us
  prometheus::Gauge* pending = nullptr;          // nv_inference_pending_request_count

 private:
  friend class Metrics;
  Metrics* owner_ = nullptr;
  std::pair<std::string, std::string> key_;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  std::unique_ptr<ModelMetrics> forModel(const std::string& model, const std::string& version);

  /// Starts the HTTP endpoint ("0.0.0.0:8002"; port 0 picks a free one):
  /// GET /metrics answers the Prometheus text format.
  Status serve(const std::string& address);
  /// The port the endpoint listens on (0 when not serving).
  int port() const;

  /// The Prometheus text exposition of every metric.
  std::string render() const;

  /// Asked on every scrape for the GPUs the served models use (none: no
  /// nv_gpu_* series); null stops asking. Triton's nv_gpu_utilization needs
  /// NVML and is not served.
  void setGpuMemorySource(std::function<std::vector<GpuMemoryReading>()> source);

 private:
  friend class ModelMetrics;
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex refsMu_;
  std::map<std::pair<std::string, std::string>, int> refs_;  // holders of each {model, version}
  prometheus::Family<prometheus::Counter>* success_;
  prometheus::Family<prometheus::Counter>* failure_;
  prometheus::Family<prometheus::Counter>* inferenceCount_;
  prometheus::Family<prometheus::Counter>* execCount_;
  prometheus::Family<prometheus::Counter>* requestUs_;
  prometheus::Family<prometheus::Counter>* queueUs_;
  prometheus::Family<prometheus::Counter>* inputUs_;
  prometheus::Family<prometheus::Counter>* inferUs_;
  prometheus::Family<prometheus::Counter>* outputUs_;
  prometheus::Family<prometheus::Gauge>* pending_;
  prometheus::Family<prometheus::Gauge>* gpuMemoryTotal_;
  prometheus::Family<prometheus::Gauge>* gpuMemoryUsed_;
  mutable std::mutex gpuMu_;  // gpuSource_, gpuSeries_
  std::function<std::vector<GpuMemoryReading>()> gpuSource_;
  mutable std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> gpuSeries_;  // by uuid
  // The endpoint: cpp-httplib's server (as the REST front end), on a thread of its own.
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> listenEnded_{false};  // set when thread_'s listen returns
};

}  // namespace cocktail::server
