//===- server/SequenceBatcher.h - Stateful sequences (config.pbtxt sequence_batching) -===//
//
// A stateful model (an RNN fed chunk by chunk) gets a sequence of requests
// that share a correlation ID (`sequence_id`), the first with
// `sequence_start`, the last with `sequence_end`. The batcher, as Triton's
// sequence batcher:
//   - runs the requests of one sequence one at a time, in the order they
//     were accepted, and requests of different sequences side by side;
//   - fills the control inputs the model declares (START, END, READY,
//     CORRID) into every request, typed as the config says;
//   - keeps each implicit `state` on the server: the state output of one
//     request is the state input of the next (zeros, or `initial_state`,
//     for the first);
//   - `direct`: binds a sequence to one instance for its life; `oldest`: runs
//     the oldest ready steps of up to max_batch_size sequences as one batch
//     on any instance (a sequence that ends leaves its batch; the others go on);
//   - releases a sequence idle for max_sequence_idle_microseconds (default
//     1 s); a later request for it is refused, saying so.
// The state lives here, not in an instance, so no slot limit applies: more
// live sequences than instances x max_batch_size interleave.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model_config.pb.h"
#include "runtime/RuntimeValue.h"
#include "server/Model.h"
#include "server/SequenceId.h"
#include "server/Status.h"

namespace cocktail::server {

/// Marks the inputs that sequence_batching's control_input and state name
/// as filled by the server (TensorRole::Control / State), so that requests
/// and the completed config leave them out. Unknown names are an error.
Status markSequenceInputs(const inference::ModelSequenceBatching& config, std::vector<TensorInfo>& inputs,
                          const std::string& where);

/// One live sequence (internal to the batcher; jobs keep it alive while queued).
struct Sequence;

class SequenceBatcher {
 public:
  /// Checks `config` against the model's tensors (their roles set by
  /// markSequenceInputs; state outputs are marked here) and reads initial
  /// states from `<modelDir>/initial_state/`.
  static StatusOr<std::unique_ptr<SequenceBatcher>> create(const inference::ModelConfig& config,
                                                           const std::vector<TensorInfo>& inputs,
                                                           std::vector<TensorInfo>& outputs, size_t instances,
                                                           size_t maxQueueSize, const std::filesystem::path& modelDir,
                                                           const std::string& where);
  ~SequenceBatcher();

  /// Queues `job` behind the earlier requests of its sequence, or refuses it
  /// (INVALID_ARGUMENT: no sequence_id, no START for an unknown or released
  /// sequence, a batch above 1; RESOURCE_EXHAUSTED; UNAVAILABLE once stopping).
  Status enqueue(InferJob* job);
  /// Blocks until `instance` has work: the next steps of up to
  /// max(1, max_batch_size) sequences, controls and states filled in.
  /// Returns false once stopping and nothing is left for `instance`.
  bool next(size_t instance, std::vector<InferJob*>& batch);
  /// Called for every job taken by next() once it ran (or failed), before
  /// its `done`: keeps the state output and lets the sequence's next step run.
  void completed(InferJob* job);
  /// Fills `job`'s controls and states as for a sequence of this one request
  /// (START and END, the initial states): for model_warmup samples.
  void fillStandalone(InferJob& job) const;
  /// Refuses new requests; what is queued still runs. Idempotent.
  void stop();
  /// Requests queued or running.
  int64_t pending() const;

 private:
  struct Control {
    enum class Kind { Start, Ready, End, CorrelationId } kind;
    size_t input = 0;
    runtime::RuntimeValue falseValue, trueValue;  // Start, Ready, End: one row's value
  };
  struct State {
    size_t input = 0, output = 0;
    runtime::RuntimeValue initial;  // one row
  };

  SequenceBatcher() = default;
  /// The control inputs' and states' values for `job`, in place.
  void fillServerInputs(InferJob& job) const;
  runtime::RuntimeValue controlValue(const Control& control, const InferJob& job) const;
  void reaperLoop();
  bool readyFor(const Sequence& sequence, size_t instance) const;
  std::shared_ptr<Sequence> takeReady(size_t instance, const InferJob* like);

  std::string modelName_;
  std::vector<TensorInfo> inputs_;
  int64_t maxBatchSize_ = 0;
  bool direct_ = true;
  std::chrono::microseconds maxQueueDelay_{0};
  std::chrono::microseconds maxIdle_{1000000};
  size_t maxQueueSize_ = 1024;
  std::vector<Control> controls_;
  std::vector<State> states_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<SequenceId, std::shared_ptr<Sequence>, SequenceIdHash> live_;
  std::list<std::shared_ptr<Sequence>> ready_;  // a step queued and none running; oldest first
  std::vector<int64_t> liveOnInstance_;         // direct: where the next sequence goes
  // Released for idleness, remembered (a bounded number) to say so to a late request.
  std::unordered_set<SequenceId, SequenceIdHash> released_;
  std::deque<SequenceId> releasedOrder_;
  int64_t pending_ = 0;
  bool stopping_ = false;
  std::condition_variable reaperCv_;
  std::thread reaper_;
};

}  // namespace cocktail::server
