//===- server/Model.h - One loaded model version and its executors -------------------===//
//
// A Model is one version of one model, ready to serve: its effective config,
// the tensors it takes and returns as the protocol sees them, `count`
// instances (each an Executor with its own thread) and one bounded queue
// they all take work from. The gRPC threads only validate and enqueue; the
// instance threads run, batch and answer. A Model is shared (shared_ptr) by
// the repository and by every request that was accepted for it, so an
// unload or a reload never drops an accepted request: `stop` refuses new
// work, lets the instances finish the queue, and joins them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ir/Program.h"
#include "ir/Type.h"
#include "model_config.pb.h"
#include "runtime/Executor.h"
#include "runtime/RuntimeValue.h"
#include "server/InstanceGroups.h"
#include "server/Metrics.h"
#include "server/SequenceId.h"
#include "server/Status.h"

namespace inference {
class ModelStatistics;
}

namespace cocktail::server {

class SequenceBatcher;
using Clock = std::chrono::steady_clock;

/// Who gives a tensor: the client, or the server for a sequence
/// (config.pbtxt's sequence_batching: a control input, an implicit state).
enum class TensorRole { Request, Control, State };

/// An input or output as the protocol sees it.
struct TensorInfo {
  std::string name;   // forward's argument name, or OUTPUT__<i>
  std::string alias;  // INPUT__<i> for inputs (Triton's PyTorch backend's other spelling)
  ir::DType dtype = ir::DType::F32;
  bool scalar = false;             // a TorchScript int/float/bool: shape [1] (or []) on the wire
  std::vector<ir::Dim> dims;       // inputs: every dim, batch included; outputs: empty
  std::vector<int64_t> bounds;     // inputs: the largest each dim may be
  std::vector<int64_t> shape;      // metadata shape: -1 where a dim varies, batch included
  /// Control and State inputs are filled by the server, never sent; a State
  /// output is kept by the server and returned only when config.pbtxt lists it.
  TensorRole role = TensorRole::Request;
};

struct Sequence;

/// The sequence a request belongs to: Triton's `sequence_id` (uint64 or
/// string; 0 and "" mean none), `sequence_start` and `sequence_end` parameters.
struct SequenceRequest {
  SequenceId id;
  bool start = false;
  bool end = false;
};

/// One inference on its way through a model. The frontend fills the inputs
/// (InferRequest.cpp) and enqueues it; an instance runs it and calls `done`
/// exactly once from its thread. Owned by the gRPC call that accepted it and
/// recycled with that call.
struct InferJob {
  std::vector<runtime::RuntimeValue> inputs;  // in forward's argument order
  std::vector<int> outputs;                   // which outputs to return, in order
  int64_t batchSize = 1;                      // dim 0 of the inputs when the model batches
  SequenceRequest sequence;                   // id empty: not part of a sequence
  std::shared_ptr<Sequence> sequenceState;    // set by the SequenceBatcher that accepted it
  Clock::time_point accepted;
  Clock::time_point deadline = Clock::time_point::max();
  /// Set by the front end when the client gave up (a cancelled call, or
  /// one past its deadline): queued, the job is answered without running;
  /// running, its run stops once every job it runs for gave up.
  std::atomic<bool> abandoned{false};

  std::vector<runtime::RuntimeValue> results;
  Status status;
  void (*done)(InferJob*) = nullptr;
  void* owner = nullptr;

  void reset();
};

/// Builds the executor of one instance, where `placement` says (the CPU or
/// a GPU); called once per instance.
using ExecutorFactory =
    std::function<ir::Expected<std::unique_ptr<runtime::Executor>>(const InstancePlacement& placement)>;

/// What a Model is built from (see Repository.cpp).
struct ModelSpec {
  std::string name;
  int64_t version = 1;
  inference::ModelConfig config;  // as read; completed by Model::create
  /// What runs it, as the `cocktail.backend` parameter spells it: "cocktail"
  /// (the compiled program on the CPU executor) or "torchscript" (the interpreter).
  std::string backend = "cocktail";
  ExecutorFactory createExecutor;
  /// Where each instance runs (placeInstances); empty: from the config's
  /// instance_group with no GPU, as a caller without GPUs has it.
  std::vector<InstancePlacement> instances;
  /// Runs of every instance on zeros of the smallest shapes before the model
  /// serves. The probe that learns the outputs always runs on instance 0 and
  /// counts as its first.
  int warmupRuns = 0;
  /// <repository>/<model>: model_warmup's input_data_file are in its warmup/.
  std::filesystem::path modelDir;
  uint32_t defaultMaxQueueSize = 1024;
  /// Symbols made for config.pbtxt's -1 dims: a request above one's bound
  /// (up to maxDimBound) has the model recompiled for more (Repository::grow).
  std::vector<std::string> growableSymbols;
  int64_t maxDimBound = 0;
};

class Model {
 public:
  /// Builds the executors, checks the config against the compiled signature,
  /// completes the config (inputs, outputs, dtypes, dims) and starts the
  /// instance threads. `metrics` may be null.
  static StatusOr<std::shared_ptr<Model>> create(ModelSpec spec, Metrics* metrics);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::string& versionString() const { return versionString_; }
  /// "cocktail" or "torchscript" (ModelSpec::backend).
  const std::string& backend() const { return backend_; }
  /// The effective config: what config.pbtxt said, completed from the model.
  const inference::ModelConfig& config() const { return config_; }
  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  /// > 0 when dim 0 of every input and output is the batch.
  int64_t maxBatchSize() const { return maxBatchSize_; }
  /// True when a request above `symbol`'s bound may have the model
  /// recompiled for it (a config.pbtxt -1 dim), up to maxDimBound().
  bool growable(const std::string& symbol) const {
    return std::find(growableSymbols_.begin(), growableSymbols_.end(), symbol) != growableSymbols_.end();
  }
  int64_t maxDimBound() const { return maxDimBound_; }
  /// Where each instance runs.
  const std::vector<InstancePlacement>& instances() const { return instances_; }
  /// True when config.pbtxt has sequence_batching: every request belongs to a sequence.
  bool sequenceBatching() const { return sequences_ != nullptr; }
  /// The timeout for requests that give none (0: none).
  std::chrono::microseconds defaultTimeout() const { return defaultTimeout_; }

  /// Hands `job` to the instances. Refused with RESOURCE_EXHAUSTED when the
  /// queue is full and UNAVAILABLE once stopping; on refusal `done` is not called.
  Status enqueue(InferJob* job);

  /// Refuses new work, runs what is queued, joins the instances. Idempotent.
  void stop();
  /// Stops the runs in progress at their next loop step (they are answered
  /// UNAVAILABLE), and every later one: for a server whose drain timed out.
  void cancelRuns() { cancelRuns_.store(true); }
  bool stopping() const;

  /// A request for this model that failed before it was queued (validation).
  void recordRejected(Clock::time_point received);
  void statistics(inference::ModelStatistics* out) const;
  /// Requests queued or running.
  int64_t pending() const;

 private:
  Model() = default;
  void instanceLoop(size_t instance);
  /// instanceLoop for a model with sequence_batching: the batcher picks the work.
  void sequenceLoop(size_t instance);
  /// Every job taken from the queue ends here: the sequence (if any) keeps
  /// its state, then the job's `done`.
  void finish(InferJob* job);
  /// Answers a job that will not run, or not again (its deadline passed, or
  /// its client gave up), with `status`, counted as a failure.
  void finishFailed(InferJob* job, Status status, Clock::time_point now);
  void gatherBatch(std::unique_lock<std::mutex>& lock, std::vector<InferJob*>& batch);
  void execute(size_t instance, std::vector<InferJob*>& batch);
  bool runBatched(size_t instance, std::vector<InferJob*>& batch);
  void runOne(size_t instance, InferJob* job);
  /// The status of a run that failed at `when`: UNAVAILABLE when cancelRuns()
  /// cut it short, DEADLINE_EXCEEDED past the request's deadline, CANCELLED
  /// when its client gave up, else the error's.
  Status runFailure(const ir::Status& error, const InferJob& job, Clock::time_point when) const;
  Status probeOutputs(std::vector<runtime::RuntimeValue>& results);
  /// config.pbtxt's model_warmup samples, on every instance (Warmup.h).
  Status runWarmup(const std::filesystem::path& warmupDir, const std::string& where);

  std::string name_;
  int64_t version_ = 1;
  std::string versionString_;
  std::string backend_;
  inference::ModelConfig config_;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
  int64_t maxBatchSize_ = 0;
  std::vector<std::string> growableSymbols_;
  int64_t maxDimBound_ = 0;
  bool dynamicBatching_ = false;
  std::chrono::microseconds maxQueueDelay_{0};
  std::chrono::microseconds defaultTimeout_{0};
  size_t maxQueueSize_ = 1024;

  std::unique_ptr<SequenceBatcher> sequences_;  // config.pbtxt's sequence_batching
  std::vector<std::unique_ptr<runtime::Executor>> executors_;
  std::vector<InstancePlacement> instances_;
  std::vector<std::thread> threads_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<InferJob*> queue_;
  bool stopping_ = false;
  // Set by cancelRuns(): runs in progress end at their next loop step instead
  // of holding a shutdown for as long as they would run.
  std::atomic<bool> cancelRuns_{false};
  int64_t running_ = 0;
  std::mutex stopMu_;  // serialises stop()

  // Statistics, under statsMu_.
  struct Duration {
    uint64_t count = 0;
    uint64_t ns = 0;
    void add(uint64_t n) { ++count, ns += n; }
  };
  struct BatchStats {
    Duration input, infer, output;
  };
  mutable std::mutex statsMu_;
  Duration success_, fail_, queue_ns_, computeInput_, computeInfer_, computeOutput_;
  uint64_t inferenceCount_ = 0, executionCount_ = 0, lastInferenceMs_ = 0;
  std::vector<BatchStats> batchStats_;  // index: batch size
  std::unique_ptr<ModelMetrics> metrics_;
};

}  // namespace cocktail::server
