//===- server/ServiceCore.h - What the gRPC and HTTP front ends share -----------------===//
//
// Both front ends decode their wire format into the protocol's messages
// (inference::ModelInferRequest, ...) and call this one core, so a request is
// admitted, validated (InferRequest.h) and answered the same way whichever
// protocol brought it: the same checks, the same messages, the same Status
// codes. The core also counts the requests in flight and drains them at
// shutdown for both front ends at once.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "grpc_service.pb.h"
#include "server/Model.h"
#include "server/Repository.h"
#include "server/Status.h"

namespace cocktail::server {

class ServiceCore {
 public:
  /// `strictReadiness`: the server is ready only while every model asked
  /// for (at start or by a load) is READY, as Triton's --strict-readiness.
  explicit ServiceCore(Repository& repository, bool strictReadiness = false)
      : repo_(repository), strictReadiness_(strictReadiness) {}

  Repository& repository() { return repo_; }
  /// True once drain() began: readiness turns false, inference is refused.
  bool draining() const { return draining_.load(); }

  /// Server readiness for both front ends: not draining and, with strict
  /// readiness, no model failed or still loading.
  bool serverReady() const;

  // ---- inference --------------------------------------------------------------
  /// Admits `request`: finds its model, validates it into `job`
  /// (prepareJob), bounds the deadline by `clientDeadline` (max: none), and
  /// enqueues it. On success `done(job)` is called once from an instance
  /// thread, and the front end must then call finishedOne(); on failure
  /// nothing is called and the status says why.
  Status accept(const inference::ModelInferRequest& request, Clock::time_point clientDeadline,
                std::shared_ptr<Model>& model, InferJob& job, void (*done)(InferJob*), void* owner);
  /// A finished job's response, or why there is none.
  static Status respond(const inference::ModelInferRequest& request, const Model& model, const InferJob& job,
                        inference::ModelInferResponse& response);
  /// Called by the front end once per accepted request, after answering it.
  void finishedOne();

  // ---- the other operations of the protocol ----------------------------------------
  void serverMetadata(inference::ServerMetadataResponse& response) const;
  bool modelReady(const std::string& name, const std::string& version) const;
  Status modelMetadata(const std::string& name, const std::string& version,
                       inference::ModelMetadataResponse& response) const;
  Status modelConfig(const std::string& name, const std::string& version, inference::ModelConfigResponse& response) const;
  /// `name` empty: every loaded model.
  Status statistics(const std::string& name, const std::string& version,
                    inference::ModelStatisticsResponse& response) const;
  void index(bool readyOnly, inference::RepositoryIndexResponse& response) const;
  /// Checks a load or unload request (the control mode, the repository, the
  /// parameters, the name) before it is run with load() / unload().
  Status checkRepositoryRequest(const std::string& repositoryName, const std::string& modelName,
                                const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters) const;
  Status load(const std::string& name) { return repo_.load(name); }
  Status unload(const std::string& name) { return repo_.unload(name); }

  // ---- shutdown --------------------------------------------------------------------
  /// Stops accepting inference, waits up to `timeout` for the accepted
  /// requests to be answered, then cancels the runs still going and waits a
  /// little more for their answers. Returns the requests still in flight
  /// when it gave up waiting (0 after a clean drain). Idempotent.
  int64_t drain(std::chrono::milliseconds timeout);

 private:
  /// Like accept: finds the model, validates, enqueues, or (a -1 dim above
  /// its compiled bound) has the repository recompile it and admits the job
  /// again after, answering through `job.done` either way.
  Status admit(const inference::ModelInferRequest& request, Clock::time_point clientDeadline,
               std::shared_ptr<Model>& model, InferJob& job);

  Repository& repo_;
  bool strictReadiness_;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> inFlight_{0};
  std::mutex drainMu_;
  std::condition_variable drainCv_;
};

}  // namespace cocktail::server
