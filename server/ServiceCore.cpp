//===- server/ServiceCore.cpp ------------------------------------------------------===//
#include "server/ServiceCore.h"

#include <fmt/format.h>

#include "runtime/Artifact.h"
#include "server/DataType.h"
#include "server/InferRequest.h"

namespace cocktail::server {

Status ServiceCore::accept(const inference::ModelInferRequest& request, Clock::time_point clientDeadline,
                           std::shared_ptr<Model>& model, InferJob& job, void (*done)(InferJob*), void* owner) {
  job.accepted = Clock::now();
  if (draining_.load()) return unavailable("the server is shutting down");
  job.done = done;
  job.owner = owner;
  inFlight_.fetch_add(1);
  Status s = admit(request, clientDeadline, model, job);
  if (!s.ok()) inFlight_.fetch_sub(1);
  return s;
}

Status ServiceCore::admit(const inference::ModelInferRequest& request, Clock::time_point clientDeadline,
                          std::shared_ptr<Model>& model, InferJob& job) {
  auto found = repo_.find(request.model_name(), request.model_version());
  if (!found) return found.status();
  model = std::move(*found);
  std::map<std::string, int64_t> grow;
  if (Status s = prepareJob(request, *model, job, &grow); !s.ok()) {
    model->recordRejected(job.accepted);
    return s;
  }
  if (!grow.empty()) {
    // Above a -1 dim's compiled bound: admitted again once the model is
    // recompiled for it; the outcome reaches the client through `done`.
    repo_.grow(model, grow, [this, &request, clientDeadline, &model, &job](Status grown) {
      if (grown.ok()) {
        job.reset();
        grown = admit(request, clientDeadline, model, job);
        if (grown.ok()) return;
      }
      job.status = grown;
      job.done(&job);
    });
    return Status::success();
  }
  job.deadline = std::min(job.deadline, clientDeadline);  // the client's deadline bounds the queue time too
  Status s = model->enqueue(&job);
  if (s.code() == Status::Code::Unavailable) {
    // Reloaded between the lookup and the enqueue: the new version takes it.
    auto again = repo_.find(request.model_name(), request.model_version());
    if (again && *again != model) {
      model = std::move(*again);
      s = model->enqueue(&job);
    }
  }
  if (!s.ok()) model->recordRejected(job.accepted);
  return s;
}

Status ServiceCore::respond(const inference::ModelInferRequest& request, const Model& model, const InferJob& job,
                            inference::ModelInferResponse& response) {
  if (!job.status.ok()) return job.status;
  if (job.results.size() != model.outputs().size())
    return internalError(fmt::format("model returned {} outputs, expected {}", job.results.size(), model.outputs().size()));
  writeResponse(request, model, job, response);
  return Status::success();
}

void ServiceCore::finishedOne() {
  if (inFlight_.fetch_sub(1) == 1 && draining_.load()) {
    std::lock_guard<std::mutex> lock(drainMu_);
    drainCv_.notify_all();
  }
}

void ServiceCore::serverMetadata(inference::ServerMetadataResponse& response) const {
  response.set_name("cocktail");
  response.set_version(runtime::compilerVersion());
  for (const char* e : {"model_repository", "model_configuration", "statistics", "binary_tensor_data"})
    response.add_extensions(e);
}

bool ServiceCore::serverReady() const {
  if (draining_.load()) return false;
  if (!strictReadiness_) return true;
  for (const IndexEntry& e : repo_.index(false))
    if (e.state != "READY" && e.reason != "unloaded") return false;  // failed, or loading
  return true;
}

bool ServiceCore::modelReady(const std::string& name, const std::string& version) const {
  return repo_.find(name, version).ok() && !draining_.load();
}

Status ServiceCore::modelMetadata(const std::string& name, const std::string& version,
                                  inference::ModelMetadataResponse& r) const {
  auto model = repo_.find(name, version);
  if (!model) return model.status();
  r.set_name((*model)->name());
  for (const auto& m : repo_.loaded((*model)->name())) r.add_versions(m->versionString());
  r.set_platform((*model)->config().platform());
  auto add = [](const TensorInfo& t, inference::ModelMetadataResponse::TensorMetadata* out) {
    out->set_name(t.name);
    out->set_datatype(std::string(tritonDatatype(t.dtype)));
    for (int64_t d : t.shape) out->add_shape(d);
  };
  // Sequence controls and implicit states are the server's business, not the client's.
  for (const TensorInfo& t : (*model)->inputs())
    if (t.role == TensorRole::Request) add(t, r.add_inputs());
  for (const TensorInfo& t : (*model)->outputs())
    if (t.role == TensorRole::Request) add(t, r.add_outputs());
  return Status::success();
}

Status ServiceCore::modelConfig(const std::string& name, const std::string& version,
                                inference::ModelConfigResponse& response) const {
  auto model = repo_.find(name, version);
  if (!model) return model.status();
  *response.mutable_config() = (*model)->config();
  return Status::success();
}

Status ServiceCore::statistics(const std::string& name, const std::string& version,
                               inference::ModelStatisticsResponse& response) const {
  if (name.empty()) {
    for (const auto& m : repo_.loaded()) m->statistics(response.add_model_stats());
    return Status::success();
  }
  auto model = repo_.find(name, version);
  if (!model) return model.status();
  if (version.empty()) {
    for (const auto& m : repo_.loaded(name)) m->statistics(response.add_model_stats());
  } else {
    (*model)->statistics(response.add_model_stats());
  }
  return Status::success();
}

void ServiceCore::index(bool readyOnly, inference::RepositoryIndexResponse& response) const {
  for (const IndexEntry& e : repo_.index(readyOnly)) {
    auto* m = response.add_models();
    m->set_name(e.name);
    m->set_version(e.version);
    m->set_state(e.state);
    m->set_reason(e.reason);
  }
}

Status ServiceCore::checkRepositoryRequest(
    const std::string& repositoryName, const std::string& modelName,
    const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters) const {
  if (repo_.options().mode != ControlMode::Explicit)
    return {Status::Code::FailedPrecondition,
            "loading and unloading models needs --model-control-mode explicit (this server polls or loads everything at start)"};
  if (!repositoryName.empty())
    return invalidArgument(fmt::format("repository_name '{}': cocktail-serve has one repository; leave it empty", repositoryName));
  for (const auto& [key, value] : parameters)
    if (key != "unload_dependents")
      return invalidArgument(fmt::format("parameters['{}'] is not supported (cocktail-serve reads the model's files)", key));
  if (!isValidModelName(modelName)) return invalidArgument(fmt::format("model_name '{}' is not a model name", modelName));
  return Status::success();
}

int64_t ServiceCore::drain(std::chrono::milliseconds timeout) {
  if (draining_.exchange(true)) return inFlight_.load();
  {
    std::unique_lock<std::mutex> lock(drainMu_);
    drainCv_.wait_for(lock, timeout, [&] { return inFlight_.load() == 0; });
  }
  int64_t left = inFlight_.load();
  if (left > 0) {
    // Past the exit timeout: stop the runs still going (at their next loop
    // step), so that their requests are answered before the front ends close.
    for (const std::shared_ptr<Model>& m : repo_.loaded()) m->cancelRuns();
    repo_.stopGrowing();  // requests waiting for a recompile are answered too
    std::unique_lock<std::mutex> lock(drainMu_);
    drainCv_.wait_for(lock, std::chrono::seconds(5), [&] { return inFlight_.load() == 0; });
  }
  return left;
}

}  // namespace cocktail::server
