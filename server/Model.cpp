//===- server/Model.cpp -------------------------------------------------------------===//
#include "server/Model.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "grpc_service.pb.h"
#include "runtime/Signature.h"
#include "server/DataType.h"
#include "server/InferRequest.h"
#include "server/ModelConfig.h"
#include "server/SequenceBatcher.h"
#include "server/Warmup.h"

namespace cocktail::server {
namespace {

uint64_t nsBetween(Clock::time_point a, Clock::time_point b) {
  return b > a ? static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()) : 0;
}

std::string dimsToString(const google::protobuf::RepeatedField<int64_t>& dims) {
  std::string s = "[";
  for (int i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// The input as the protocol sees it, from forward's argument.
TensorInfo inputInfo(const ir::InputSpec& spec, const std::vector<ir::Symbol>& symbols, size_t index) {
  TensorInfo t;
  t.name = spec.name;
  t.alias = fmt::format("INPUT__{}", index);
  t.dtype = spec.type.dtype();
  if (spec.type.isScalar()) {
    t.scalar = true;
    t.shape = {1};
    return t;
  }
  t.dims = spec.type.dims();
  for (const ir::Dim& d : t.dims) {
    int64_t bound = d.isConstant() ? d.value() : 0;
    if (d.isSymbol())
      for (const ir::Symbol& s : symbols)
        if (s.name == d.symbolName()) bound = s.bound;
    t.bounds.push_back(bound);
    t.shape.push_back(d.isConstant() ? d.value() : -1);
  }
  return t;
}

/// Zeros of the smallest shape the signature allows (every symbol 1), to
/// learn the outputs' dtypes and ranks when the config does not give them.
std::vector<runtime::RuntimeValue> probeInputs(const std::vector<TensorInfo>& inputs) {
  std::vector<runtime::RuntimeValue> values;
  for (const TensorInfo& t : inputs) {
    if (t.scalar) {
      if (t.dtype == ir::DType::I64) values.emplace_back(int64_t{1});
      else if (t.dtype == ir::DType::F64) values.emplace_back(1.0);
      else values.emplace_back(false);
      continue;
    }
    runtime::Shape shape;
    for (size_t d = 0; d < t.dims.size(); ++d) shape.push_back(t.dims[d].isConstant() ? t.dims[d].value() : std::min<int64_t>(1, t.bounds[d]));
    values.emplace_back(runtime::Tensor::zeros(t.dtype, shape));
  }
  return values;
}

}  // namespace

void InferJob::reset() {
  inputs.clear();
  outputs.clear();
  batchSize = 1;
  sequence = SequenceRequest();
  sequenceState.reset();
  deadline = Clock::time_point::max();
  abandoned.store(false);
  results.clear();
  status = Status::success();
}

StatusOr<std::shared_ptr<Model>> Model::create(ModelSpec spec, Metrics* metrics) {
  std::shared_ptr<Model> m(new Model());
  m->name_ = spec.name;
  m->version_ = spec.version;
  m->versionString_ = std::to_string(spec.version);
  m->growableSymbols_ = spec.growableSymbols;
  m->maxDimBound_ = spec.maxDimBound;
  inference::ModelConfig& config = m->config_;
  config = std::move(spec.config);
  const std::string where = fmt::format("model '{}' version {}", m->name_, m->version_);

  // ---- executors, one per instance ----
  const int64_t count = instanceCount(config);
  m->backend_ = spec.backend;
  if (!spec.createExecutor) return internalError(fmt::format("{}: no executor factory", where));
  for (int64_t i = 0; i < count; ++i) {
    auto executor = spec.createExecutor();
    if (!executor) return Status::fromIr(executor.status(), Status::Code::Unavailable);
    m->executors_.push_back(executor.take());
  }
  if (config.instance_group().empty()) {
    auto* g = config.add_instance_group();
    g->set_count(1);
  }
  for (int i = 0; i < config.instance_group_size(); ++i) {
    auto* g = config.mutable_instance_group(i);
    if (g->name().empty()) g->set_name(fmt::format("{}_{}", m->name_, i));
    if (g->count() == 0) g->set_count(1);
    g->set_kind(inference::ModelInstanceGroup::KIND_CPU);
  }

  // ---- inputs: forward's arguments, checked against the config ----
  const runtime::Signature& sig = m->executors_.front()->signature();
  for (size_t i = 0; i < sig.inputs.size(); ++i) m->inputs_.push_back(inputInfo(sig.inputs[i], sig.symbols, i));
  m->maxBatchSize_ = config.max_batch_size();
  if (m->maxBatchSize_ > 0) {
    std::string batchSymbol;
    for (const TensorInfo& t : m->inputs_) {
      if (t.scalar || t.dims.empty() || !t.dims[0].isSymbol())
        return invalidArgument(fmt::format(
            "{}: max_batch_size {} needs dim 0 of every input to be the batch, a symbol (e.g. B<={}), but '{}' is {}",
            where, m->maxBatchSize_, m->maxBatchSize_, t.name, t.scalar ? "a scalar" : "not symbolic"));
      if (batchSymbol.empty()) batchSymbol = t.dims[0].symbolName();
      if (t.dims[0].symbolName() != batchSymbol)
        return invalidArgument(fmt::format("{}: dim 0 of every input must be the same batch symbol, but '{}' has {} and {} has {}",
                                           where, m->inputs_[0].name, batchSymbol, t.name, t.dims[0].symbolName()));
      if (t.bounds[0] < m->maxBatchSize_)
        return invalidArgument(fmt::format("{}: max_batch_size {} is above the bound {}<={} the model was compiled for",
                                           where, m->maxBatchSize_, batchSymbol, t.bounds[0]));
    }
  }
  if (config.has_sequence_batching())
    COCKTAIL_SERVE_RETURN_IF_ERROR(markSequenceInputs(config.sequence_batching(), m->inputs_, where));
  const auto requestInputs = static_cast<int>(std::count_if(
      m->inputs_.begin(), m->inputs_.end(), [](const TensorInfo& t) { return t.role == TensorRole::Request; }));
  if (!config.input().empty()) {
    if (config.input_size() != requestInputs)
      return invalidArgument(fmt::format("{}: config.pbtxt lists {} inputs but the model takes {}{}: {}", where,
                                         config.input_size(), requestInputs,
                                         requestInputs < static_cast<int>(m->inputs_.size())
                                             ? " besides its sequence controls and states"
                                             : "",
                                         sig.str()));
    for (const auto& ci : config.input()) {
      TensorInfo* t = nullptr;
      for (TensorInfo& x : m->inputs_)
        if (x.name == ci.name() || x.alias == ci.name()) t = &x;
      if (!t)
        return invalidArgument(fmt::format("{}: config.pbtxt input '{}' is not an argument of {}", where, ci.name(), sig.str()));
      if (t->role != TensorRole::Request)
        return invalidArgument(fmt::format("{}: config.pbtxt input '{}' is a sequence_batching {}, filled by the server; "
                                           "leave it out of input",
                                           where, ci.name(), t->role == TensorRole::Control ? "control_input" : "state"));
      if (ci.data_type() != inference::TYPE_INVALID && ci.data_type() != configDataType(t->dtype))
        return invalidArgument(fmt::format("{}: config.pbtxt input '{}' has data_type {}, but the model takes {}", where,
                                           ci.name(), inference::DataType_Name(ci.data_type()),
                                           inference::DataType_Name(configDataType(t->dtype))));
      std::vector<int64_t> expected(t->shape.begin() + (m->maxBatchSize_ > 0 ? 1 : 0), t->shape.end());
      if (!ci.dims().empty()) {
        bool ok = static_cast<size_t>(ci.dims_size()) == expected.size() || (t->scalar && ci.dims_size() <= 1);
        for (int d = 0; ok && d < ci.dims_size() && !t->scalar; ++d)
          ok = ci.dims(d) == expected[d] || (ci.dims(d) == -1 && expected[d] == -1);
        if (!ok)
          return invalidArgument(fmt::format(
              "{}: config.pbtxt input '{}' has dims {}, but the model was compiled for {} (write -1 for a symbolic dim{})",
              where, ci.name(), dimsToString(ci.dims()), sig.inputs[t - m->inputs_.data()].str(),
              m->maxBatchSize_ > 0 ? "; leave the batch dim out" : ""));
      }
      // The config's spelling is the one metadata shows; the other is accepted too.
      if (ci.name() != t->name) std::swap(t->name, t->alias);
    }
  }
  config.clear_input();
  for (const TensorInfo& t : m->inputs_) {
    if (t.role != TensorRole::Request) continue;  // the server fills it
    auto* ci = config.add_input();
    ci->set_name(t.name);
    ci->set_data_type(configDataType(t.dtype));
    for (size_t d = m->maxBatchSize_ > 0 ? 1 : 0; d < t.shape.size(); ++d) ci->add_dims(t.shape[d]);
  }

  // ---- outputs: declared by the config, or learned from one probe run ----
  size_t numOutputs = sig.outputNames.size();
  std::vector<runtime::RuntimeValue> probe;
  Status probed = m->probeOutputs(probe);
  // Warm-up: the rest of the runs, on every instance. A failure here is not
  // the model's fault (zeros may be no sensible input); requests will tell.
  for (size_t i = 0; i < m->executors_.size(); ++i)
    for (int r = i == 0 ? 1 : 0; r < spec.warmupRuns; ++r)
      if (auto out = m->executors_[i]->run(probeInputs(m->inputs_)); !out)
        spdlog::debug("{}: warm-up run {} of instance {} failed: {}", where, r, i, out.status().str());
  std::vector<const inference::ModelOutput*> declared(numOutputs, nullptr);
  for (int i = 0; i < config.output_size(); ++i) {
    const auto& co = config.output(i);
    int index = tensorIndexSuffix(co.name());
    if (index < 0) index = i;
    if (index >= static_cast<int>(numOutputs))
      return invalidArgument(fmt::format("{}: config.pbtxt output '{}' does not exist: the model has {} output(s)", where,
                                         co.name(), numOutputs));
    declared[index] = &co;
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    TensorInfo t;
    t.name = declared[i] ? declared[i]->name() : sig.outputNames[i];
    std::optional<ir::DType> dtype;
    int64_t rank = -1;
    if (probed.ok()) {
      const runtime::RuntimeValue& v = probe[i];
      if (const auto* tensor = std::get_if<runtime::Tensor>(&v)) dtype = tensor->dtype(), rank = tensor->dim();
      else if (std::holds_alternative<int64_t>(v)) dtype = ir::DType::I64, rank = 1, t.scalar = true;
      else if (std::holds_alternative<double>(v)) dtype = ir::DType::F64, rank = 1, t.scalar = true;
      else if (std::holds_alternative<bool>(v)) dtype = ir::DType::I1, rank = 1, t.scalar = true;
    }
    if (declared[i] && declared[i]->data_type() != inference::TYPE_INVALID) {
      auto d = dtypeFromConfig(declared[i]->data_type());
      if (!d || (dtype && *d != *dtype))
        return invalidArgument(fmt::format("{}: config.pbtxt output '{}' has data_type {}, but the model returns {}", where,
                                           t.name, inference::DataType_Name(declared[i]->data_type()),
                                           dtype ? inference::DataType_Name(configDataType(*dtype)) : "an unsupported type"));
      dtype = d;
    }
    if (!dtype)
      return invalidArgument(fmt::format(
          "{}: cannot tell the dtype of output {} ({}); declare it in config.pbtxt: output [ {{ name: \"OUTPUT__{}\" "
          "data_type: TYPE_FP32 dims: [ -1 ] }} ]",
          where, i, probed.ok() ? "not a tensor" : probed.message(), i));
    t.dtype = *dtype;
    if (m->maxBatchSize_ > 0) t.shape.push_back(-1);
    if (declared[i] && !declared[i]->dims().empty())
      t.shape.insert(t.shape.end(), declared[i]->dims().begin(), declared[i]->dims().end());
    else
      for (int64_t d = m->maxBatchSize_ > 0 ? 1 : 0; d < rank; ++d) t.shape.push_back(-1);
    m->outputs_.push_back(std::move(t));
  }
  m->maxQueueSize_ = spec.defaultMaxQueueSize;
  if (config.has_sequence_batching()) {
    auto batcher = SequenceBatcher::create(config, m->inputs_, m->outputs_, m->executors_.size(), m->maxQueueSize_,
                                           spec.modelDir, where);
    if (!batcher) return batcher.status();
    m->sequences_ = std::move(*batcher);
  }
  config.clear_output();
  for (const TensorInfo& t : m->outputs_) {
    if (t.role != TensorRole::Request) continue;  // an implicit state, kept by the server
    auto* co = config.add_output();
    co->set_name(t.name);
    co->set_data_type(configDataType(t.dtype));
    for (size_t d = m->maxBatchSize_ > 0 ? 1 : 0; d < t.shape.size(); ++d) co->add_dims(t.shape[d]);
  }

  // ---- scheduling ----
  if (config.platform().empty()) config.set_platform("pytorch_libtorch");
  if (config.backend().empty()) config.set_backend("pytorch");
  (*config.mutable_parameters())[kBackendParameter].set_string_value(m->backend_);  // what serves it, default or not
  if (config.has_dynamic_batching()) {
    const auto& db = config.dynamic_batching();
    m->dynamicBatching_ = m->maxBatchSize_ > 1;
    m->maxQueueDelay_ = std::chrono::microseconds(db.max_queue_delay_microseconds());
    if (db.has_default_queue_policy()) {
      if (db.default_queue_policy().max_queue_size() > 0) m->maxQueueSize_ = db.default_queue_policy().max_queue_size();
      m->defaultTimeout_ = std::chrono::microseconds(db.default_queue_policy().default_timeout_microseconds());
    }
  }
  COCKTAIL_SERVE_RETURN_IF_ERROR(m->runWarmup(spec.modelDir / "warmup", where));
  m->batchStats_.resize(std::max<int64_t>(m->maxBatchSize_, 1) + 1);
  if (metrics) m->metrics_ = metrics->forModel(m->name_, m->versionString_);
  for (size_t i = 0; i < m->executors_.size(); ++i) m->threads_.emplace_back([raw = m.get(), i] { raw->instanceLoop(i); });
  return m;
}

Status Model::runWarmup(const std::filesystem::path& warmupDir, const std::string& where) {
  auto requests = warmupRequests(config_, inputs_, maxBatchSize_, warmupDir);
  if (!requests) return invalidArgument(fmt::format("{}: {}", where, requests.status().message()));
  for (int s = 0; s < static_cast<int>(requests->size()); ++s) {
    const auto& sample = config_.model_warmup(s);
    const std::string name = sample.name().empty() ? fmt::format("#{}", s) : sample.name();
    InferJob job;
    if (Status st = prepareJob((*requests)[s], *this, job); !st.ok())
      return invalidArgument(fmt::format("{}: model_warmup '{}' does not fit the model: {}", where, name, st.message()));
    if (sequences_) sequences_->fillStandalone(job);  // a sequence of one request
    for (size_t i = 0; i < executors_.size(); ++i)
      for (uint32_t r = 0; r < std::max<uint32_t>(sample.count(), 1); ++r)
        if (auto out = executors_[i]->run(job.inputs); !out)
          return invalidArgument(fmt::format("{}: model_warmup '{}' failed on instance {}: {}", where, name, i,
                                             Status::fromRun(out.status()).message()));
    spdlog::info("{}: model_warmup '{}' ran {} time(s) on each of {} instance(s)", where, name,
                 std::max<uint32_t>(sample.count(), 1), executors_.size());
  }
  return Status::success();
}

Status Model::probeOutputs(std::vector<runtime::RuntimeValue>& results) {
  auto out = executors_.front()->run(probeInputs(inputs_));
  if (!out) return Status::fromIr(out.status(), Status::Code::Internal);
  results = out.take();
  return Status::success();
}

Model::~Model() { stop(); }

bool Model::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void Model::stop() {
  std::lock_guard<std::mutex> stopLock(stopMu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sequences_) sequences_->stop();
  for (std::thread& t : threads_) {
    if (!t.joinable()) continue;
    if (t.get_id() == std::this_thread::get_id()) t.detach();  // never join oneself
    else t.join();
  }
}

int64_t Model::pending() const {
  if (sequences_) return sequences_->pending();
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size()) + running_;
}

Status Model::enqueue(InferJob* job) {
  if (sequences_) {
    COCKTAIL_SERVE_RETURN_IF_ERROR(sequences_->enqueue(job));
    if (metrics_) metrics_->pending->Increment();
    return Status::success();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return unavailable(fmt::format("model '{}' version {} is unloading", name_, version_));
    if (queue_.size() >= maxQueueSize_)
      return {Status::Code::ResourceExhausted,
              fmt::format("model '{}' has {} requests queued, its limit (max_queue_size); retry later", name_, queue_.size())};
    queue_.push_back(job);
    if (metrics_) metrics_->pending->Increment();
  }
  cv_.notify_one();
  return Status::success();
}

void Model::sequenceLoop(size_t instance) {
  std::vector<InferJob*> batch;
  while (sequences_->next(instance, batch)) {
    if (metrics_) metrics_->pending->Decrement(static_cast<double>(batch.size()));
    execute(instance, batch);
  }
}

void Model::finish(InferJob* job) {
  if (sequences_) sequences_->completed(job);
  job->done(job);
}

void Model::instanceLoop(size_t instance) {
  if (sequences_) return sequenceLoop(instance);
  std::vector<InferJob*> batch;
  batch.reserve(std::max<int64_t>(maxBatchSize_, 1));
  for (;;) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and the queue is drained
      batch.push_back(queue_.front());
      queue_.pop_front();
      if (dynamicBatching_) gatherBatch(lock, batch);
      running_ += static_cast<int64_t>(batch.size());
      if (metrics_) metrics_->pending->Decrement(static_cast<double>(batch.size()));
    }
    execute(instance, batch);
    std::lock_guard<std::mutex> lock(mu_);
    running_ -= static_cast<int64_t>(batch.size());
  }
}

namespace {

/// Jobs can share one execution when every input but the batch dim agrees.
bool batchCompatible(const InferJob& a, const InferJob& b) {
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const auto* ta = std::get_if<runtime::Tensor>(&a.inputs[i]);
    const auto* tb = std::get_if<runtime::Tensor>(&b.inputs[i]);
    if (!ta || !tb) return false;
    if (ta->dim() != tb->dim() || ta->dim() == 0) return false;
    for (int64_t d = 1; d < ta->dim(); ++d)
      if (ta->shape()[d] != tb->shape()[d]) return false;
  }
  return true;
}

}  // namespace

void Model::gatherBatch(std::unique_lock<std::mutex>& lock, std::vector<InferJob*>& batch) {
  int64_t total = batch.front()->batchSize;
  const auto until = Clock::now() + maxQueueDelay_;
  for (;;) {
    for (auto it = queue_.begin(); it != queue_.end() && total < maxBatchSize_;) {
      if (total + (*it)->batchSize <= maxBatchSize_ && batchCompatible(*batch.front(), **it)) {
        total += (*it)->batchSize;
        batch.push_back(*it);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (total >= maxBatchSize_ || stopping_ || maxQueueDelay_.count() == 0) return;
    if (cv_.wait_until(lock, until) == std::cv_status::timeout) {
      if (Clock::now() >= until) {
        // One last look, then run what we have.
        for (auto it = queue_.begin(); it != queue_.end() && total < maxBatchSize_;) {
          if (total + (*it)->batchSize <= maxBatchSize_ && batchCompatible(*batch.front(), **it)) {
            total += (*it)->batchSize;
            batch.push_back(*it);
            it = queue_.erase(it);
          } else {
            ++it;
          }
        }
        return;
      }
    }
  }
}

void Model::finishFailed(InferJob* job, Status status, Clock::time_point now) {
  job->status = std::move(status);
  {
    std::lock_guard<std::mutex> lock(statsMu_);
    fail_.add(nsBetween(job->accepted, now));
  }
  if (metrics_) metrics_->failure->Increment(), metrics_->requestUs->Increment(nsBetween(job->accepted, now) / 1000.0);
  finish(job);
}

void Model::execute(size_t instance, std::vector<InferJob*>& batch) {
  // Requests whose client gave up, or that waited past their deadline, are
  // answered without running.
  const auto now = Clock::now();
  size_t kept = 0;
  for (InferJob* job : batch) {
    if (job->deadline <= now) {
      finishFailed(
          job,
          {Status::Code::DeadlineExceeded, fmt::format("request for model '{}' timed out after {} us in the queue",
                                                       name_, nsBetween(job->accepted, now) / 1000)},
          now);
      continue;
    }
    if (job->abandoned.load()) {
      spdlog::info("model '{}' version {}: a request cancelled by its client after {} us in the queue is not run",
                   name_, version_, nsBetween(job->accepted, now) / 1000);
      finishFailed(
          job,
          {Status::Code::Cancelled, fmt::format("request for model '{}' was cancelled by its client after {} us "
                                                "in the queue; it did not run",
                                                name_, nsBetween(job->accepted, now) / 1000)},
          now);
      continue;
    }
    batch[kept++] = job;
  }
  batch.resize(kept);
  if (batch.empty()) return;
  if (batch.size() > 1 && runBatched(instance, batch)) return;
  for (InferJob* job : batch) runOne(instance, job);
}

Status Model::runFailure(const ir::Status& error, const InferJob& job, Clock::time_point when) const {
  if (cancelRuns_.load())
    return unavailable(fmt::format("model '{}' version {}: the run was stopped: the server is shutting down",
                                   name_, version_));
  if (when >= job.deadline)
    return {Status::Code::DeadlineExceeded,
            fmt::format("request for model '{}' did not finish before its deadline ({} us after it was accepted): {}",
                        name_, nsBetween(job.accepted, when) / 1000, error.str())};
  if (job.abandoned.load())
    return {
        Status::Code::Cancelled,
        fmt::format("request for model '{}' was cancelled by its client; its run stopped {} us after it was accepted",
                    name_, nsBetween(job.accepted, when) / 1000)};
  return Status::fromRun(error);
}

void Model::runOne(size_t instance, InferJob* job) {
  const auto start = Clock::now();
  runtime::RunControl control;
  control.deadline = job->deadline;   // Triton's timeout: queue and compute together
  control.cancelled = &cancelRuns_;
  const std::atomic<bool>* const abandoned[] = {&job->abandoned};
  control.abandoned = abandoned;
  auto out = executors_[instance]->run(job->inputs, control);
  const auto ran = Clock::now();
  if (out) {
    job->results = out.take();
    job->status = Status::success();
  } else {
    job->status = runFailure(out.status(), *job, ran);
  }
  const auto end = Clock::now();
  const uint64_t queueNs = nsBetween(job->accepted, start), inferNs = nsBetween(start, ran),
                 outputNs = nsBetween(ran, end), totalNs = nsBetween(job->accepted, end);
  {
    std::lock_guard<std::mutex> lock(statsMu_);
    if (job->status.ok()) {
      success_.add(totalNs);
      queue_ns_.add(queueNs);
      computeInput_.add(0);
      computeInfer_.add(inferNs);
      computeOutput_.add(outputNs);
      inferenceCount_ += job->batchSize;
      auto& b = batchStats_[std::min<size_t>(job->batchSize, batchStats_.size() - 1)];
      b.input.add(0), b.infer.add(inferNs), b.output.add(outputNs);
    } else {
      fail_.add(totalNs);
    }
    ++executionCount_;
    lastInferenceMs_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  }
  if (metrics_) {
    (job->status.ok() ? metrics_->success : metrics_->failure)->Increment();
    metrics_->execCount->Increment();
    metrics_->requestUs->Increment(totalNs / 1000.0);
    if (job->status.ok()) {
      metrics_->inferenceCount->Increment(static_cast<double>(job->batchSize));
      metrics_->queueUs->Increment(queueNs / 1000.0);
      metrics_->inferUs->Increment(inferNs / 1000.0);
      metrics_->outputUs->Increment(outputNs / 1000.0);
    }
  }
  if (!job->status.ok())
    spdlog::warn("model '{}' version {}: {}", name_, version_, job->status.message());
  finish(job);
}

bool Model::runBatched(size_t instance, std::vector<InferJob*>& batch) {
  const auto start = Clock::now();
  int64_t total = 0;
  for (InferJob* job : batch) total += job->batchSize;
  // Concatenate every input along dim 0.
  std::vector<runtime::RuntimeValue> inputs;
  inputs.reserve(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const auto& first = std::get<runtime::Tensor>(batch.front()->inputs[i]);
    runtime::Shape shape = first.shape();
    shape[0] = total;
    runtime::Tensor t = runtime::Tensor::empty(first.dtype(), shape);
    auto* dst = static_cast<std::byte*>(t.rawData());
    for (InferJob* job : batch) {
      const auto& part = std::get<runtime::Tensor>(job->inputs[i]);
      std::memcpy(dst, part.rawData(), part.nbytes());
      dst += part.nbytes();
    }
    inputs.emplace_back(std::move(t));
  }
  const auto inputDone = Clock::now();
  // The batch may run as long as one of its requests still waits for it.
  runtime::RunControl control;
  control.deadline = Clock::time_point::min();
  for (const InferJob* job : batch) control.deadline = std::max(control.deadline, job->deadline);
  control.cancelled = &cancelRuns_;
  std::vector<const std::atomic<bool>*> abandoned;
  abandoned.reserve(batch.size());
  for (const InferJob* job : batch) abandoned.push_back(&job->abandoned);
  control.abandoned = abandoned;
  auto out = executors_[instance]->run(inputs, control);
  const auto ran = Clock::now();
  // Every client gave up: answer them all (nobody reads it) without running again.
  if (!out && control.everyClientGaveUp() && !cancelRuns_.load()) {
    for (InferJob* job : batch) finishFailed(job, runFailure(out.status(), *job, ran), ran);
    return true;
  }
  if (!out) return false;  // run them one by one: the error then names the request
  // Every output must be batch-major to be split back.
  for (const auto& v : *out) {
    const auto* t = std::get_if<runtime::Tensor>(&v);
    if (!t || t->dim() == 0 || t->shape()[0] != total) {
      spdlog::warn("model '{}': an output is not batch-major ({}); running the batch one request at a time", name_,
                   runtime::describe(v));
      return false;
    }
  }
  for (InferJob* job : batch) job->results.clear();
  for (const auto& v : *out) {
    const auto& t = std::get<runtime::Tensor>(v);
    const int64_t rowBytes = t.nbytes() / total;
    const auto* src = static_cast<const std::byte*>(t.rawData());
    for (InferJob* job : batch) {
      runtime::Shape shape = t.shape();
      shape[0] = job->batchSize;
      job->results.emplace_back(runtime::Tensor::fromBytes(t.dtype(), shape, src));
      src += rowBytes * job->batchSize;
    }
  }
  const auto end = Clock::now();
  const uint64_t inputNs = nsBetween(start, inputDone), inferNs = nsBetween(inputDone, ran), outputNs = nsBetween(ran, end);
  {
    std::lock_guard<std::mutex> lock(statsMu_);
    for (InferJob* job : batch) {
      success_.add(nsBetween(job->accepted, end));
      queue_ns_.add(nsBetween(job->accepted, start));
      computeInput_.add(inputNs), computeInfer_.add(inferNs), computeOutput_.add(outputNs);
    }
    inferenceCount_ += total;
    ++executionCount_;
    auto& b = batchStats_[std::min<size_t>(total, batchStats_.size() - 1)];
    b.input.add(inputNs), b.infer.add(inferNs), b.output.add(outputNs);
    lastInferenceMs_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  }
  if (metrics_) {
    metrics_->execCount->Increment();
    metrics_->inferenceCount->Increment(static_cast<double>(total));
    for (InferJob* job : batch) {
      metrics_->success->Increment();
      metrics_->requestUs->Increment(nsBetween(job->accepted, end) / 1000.0);
      metrics_->queueUs->Increment(nsBetween(job->accepted, start) / 1000.0);
      metrics_->inputUs->Increment(inputNs / 1000.0);
      metrics_->inferUs->Increment(inferNs / 1000.0);
      metrics_->outputUs->Increment(outputNs / 1000.0);
    }
  }
  for (InferJob* job : batch) {
    job->status = Status::success();
    finish(job);
  }
  return true;
}

void Model::recordRejected(Clock::time_point received) {
  const uint64_t ns = nsBetween(received, Clock::now());
  {
    std::lock_guard<std::mutex> lock(statsMu_);
    fail_.add(ns);
  }
  if (metrics_) metrics_->failure->Increment(), metrics_->requestUs->Increment(ns / 1000.0);
}

void Model::statistics(inference::ModelStatistics* out) const {
  auto set = [](inference::StatisticDuration* d, const Duration& v) {
    d->set_count(v.count);
    d->set_ns(v.ns);
  };
  std::lock_guard<std::mutex> lock(statsMu_);
  out->set_name(name_);
  out->set_version(versionString_);
  out->set_last_inference(lastInferenceMs_);
  out->set_inference_count(inferenceCount_);
  out->set_execution_count(executionCount_);
  auto* s = out->mutable_inference_stats();
  set(s->mutable_success(), success_);
  set(s->mutable_fail(), fail_);
  set(s->mutable_queue(), queue_ns_);
  set(s->mutable_compute_input(), computeInput_);
  set(s->mutable_compute_infer(), computeInfer_);
  set(s->mutable_compute_output(), computeOutput_);
  s->mutable_cache_hit();
  s->mutable_cache_miss();
  for (size_t b = 1; b < batchStats_.size(); ++b) {
    const BatchStats& bs = batchStats_[b];
    if (bs.infer.count == 0) continue;
    auto* o = out->add_batch_stats();
    o->set_batch_size(b);
    set(o->mutable_compute_input(), bs.input);
    set(o->mutable_compute_infer(), bs.infer);
    set(o->mutable_compute_output(), bs.output);
  }
}

}  // namespace cocktail::server
