//===- server/SequenceBatcher.cpp ----------------------------------------------------===//
#include "server/SequenceBatcher.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/DataType.h"

namespace cocktail::server {

/// A sequence's requests not yet run (in order), its state, where it runs.
struct Sequence {
  static constexpr size_t kAnyInstance = std::numeric_limits<size_t>::max();
  SequenceId id;
  size_t instance = kAnyInstance;  // direct: the one instance it runs on
  std::deque<InferJob*> queue;
  bool running = false;
  std::vector<runtime::RuntimeValue> state;
  Clock::time_point lastActivity;
};

namespace {

using Batching = inference::ModelSequenceBatching;
using ControlKind = Batching::Control::Kind;

/// Sequences released for idleness that the batcher still recognises.
constexpr size_t kRememberedReleases = 4096;
/// The longest idle time or queue delay a config may ask for: a day.
constexpr uint64_t kMaxMicroseconds = uint64_t{86400} * 1000000;

const TensorInfo* findTensor(const std::vector<TensorInfo>& tensors, const std::string& name, size_t* index) {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name || (!tensors[i].alias.empty() && tensors[i].alias == name)) {
      *index = i;
      return &tensors[i];
    }
  return nullptr;
}

std::string names(const std::vector<TensorInfo>& tensors) {
  std::string s;
  for (const TensorInfo& t : tensors) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

/// The shape of one row of `t` (the batch dim, when batching, is 1), or why
/// there is none: a variable dim the server cannot choose.
StatusOr<runtime::Shape> rowShape(const TensorInfo& t, int64_t maxBatchSize, const std::string& what) {
  runtime::Shape shape;
  for (size_t d = 0; d < t.dims.size(); ++d) {
    if (t.dims[d].isConstant()) shape.push_back(t.dims[d].value());
    else if (d == 0 && maxBatchSize > 0) shape.push_back(1);
    else
      return invalidArgument(fmt::format("{} '{}' has the variable dim {} ({}); the server fills it, so its dims "
                                         "besides the batch must be fixed",
                                         what, t.name, d, t.dims[d].symbolName()));
  }
  return shape;
}

/// A row of `t` with every element `value`; a scalar input gets the number itself.
runtime::RuntimeValue filled(const TensorInfo& t, const runtime::Shape& shape, double value) {
  if (t.scalar) {
    if (t.dtype == ir::DType::I64) return static_cast<int64_t>(value);
    if (t.dtype == ir::DType::F64) return value;
    return value != 0;
  }
  runtime::Tensor tensor = runtime::Tensor::empty(t.dtype, shape);
  for (int64_t i = 0; i < tensor.numel(); ++i) {
    switch (t.dtype) {
      case ir::DType::I1: tensor.data<bool>()[i] = value != 0; break;
      case ir::DType::I32: tensor.data<int32_t>()[i] = static_cast<int32_t>(value); break;
      case ir::DType::I64: tensor.data<int64_t>()[i] = static_cast<int64_t>(value); break;
      case ir::DType::F64: tensor.data<double>()[i] = value; break;
      default: tensor.data<float>()[i] = static_cast<float>(value); break;
    }
  }
  return tensor;
}

runtime::RuntimeValue filledId(const TensorInfo& t, const runtime::Shape& shape, uint64_t id) {
  if (t.scalar) return static_cast<int64_t>(id);
  runtime::Tensor tensor = runtime::Tensor::empty(t.dtype, shape);
  for (int64_t i = 0; i < tensor.numel(); ++i) {
    if (t.dtype == ir::DType::I32) tensor.data<int32_t>()[i] = static_cast<int32_t>(id);  // the low 32 bits, as Triton
    else tensor.data<int64_t>()[i] = static_cast<int64_t>(id);
  }
  return tensor;
}

/// Triton's fields that change nothing here, each logged once at load with
/// the reason, as the backend's unused parameters are: a config written for
/// Triton loads unchanged, and its author learns what the field did not do.
void logFieldsWithoutEffect(const Batching& sb, const std::string& where) {
  auto noEffect = [&](const std::string& field, const std::string& value, const char* why) {
    spdlog::info("{}: sequence_batching {} {} has no effect: {}", where, field, value, why);
  };
  if (sb.has_direct()) {
    const auto& d = sb.direct();
    if (d.max_queue_delay_microseconds() > 0)
      noEffect("direct.max_queue_delay_microseconds", std::to_string(d.max_queue_delay_microseconds()),
               "direct runs each sequence's step alone, as soon as its instance is free");
    if (d.minimum_slot_utilization() != 0)
      noEffect("direct.minimum_slot_utilization", fmt::format("{}", d.minimum_slot_utilization()),
               "there are no batch slots: the states live in the server");
  }
  if (sb.has_oldest()) {
    const auto& o = sb.oldest();
    if (o.max_candidate_sequences() > 0)
      noEffect("oldest.max_candidate_sequences", std::to_string(o.max_candidate_sequences()),
               "the states live in the server, so any number of sequences interleave; a batch holds up to "
               "max_batch_size of them");
    if (o.preferred_batch_size_size() > 0)
      noEffect("oldest.preferred_batch_size", fmt::format("[{}]", fmt::join(o.preferred_batch_size(), ", ")),
               "a batch runs once max_batch_size sequences are ready or max_queue_delay_microseconds has passed");
    if (o.preserve_ordering())
      noEffect("oldest.preserve_ordering", "true",
               "each sequence's responses keep its requests' order; across sequences they return as they finish");
  }
  for (const auto& s : sb.state()) {
    if (s.use_same_buffer_for_input_output())
      noEffect(fmt::format("state '{}' use_same_buffer_for_input_output", s.input_name()), "true",
               "states are host tensors the server keeps per sequence; Triton's device buffers do not apply");
    if (s.use_growable_memory())
      noEffect(fmt::format("state '{}' use_growable_memory", s.input_name()), "true",
               "states are host tensors the server keeps per sequence, sized by each step's output");
  }
}

const char* kindName(ControlKind kind) {
  switch (kind) {
    case Batching::Control::CONTROL_SEQUENCE_START: return "CONTROL_SEQUENCE_START";
    case Batching::Control::CONTROL_SEQUENCE_READY: return "CONTROL_SEQUENCE_READY";
    case Batching::Control::CONTROL_SEQUENCE_END: return "CONTROL_SEQUENCE_END";
    case Batching::Control::CONTROL_SEQUENCE_CORRID: return "CONTROL_SEQUENCE_CORRID";
    default: return "an unknown kind";
  }
}

/// The state's first value: config's initial_state (zeros or a file in
/// <model>/initial_state/), else zeros with every -1 dim 1, as Triton.
StatusOr<runtime::RuntimeValue> initialState(const Batching::State& state, const TensorInfo& input, int64_t maxBatchSize,
                                             const std::filesystem::path& modelDir, const std::string& where) {
  if (input.scalar) return filled(input, {}, 0);
  runtime::Shape shape;
  if (maxBatchSize > 0) shape.push_back(1);
  std::string file;
  if (state.initial_state_size() > 1)
    return invalidArgument(fmt::format("{}: state '{}' has {} initial_state entries; give one", where,
                                       state.input_name(), state.initial_state_size()));
  if (state.initial_state_size() == 1) {
    const auto& init = state.initial_state(0);
    if (init.data_type() != state.data_type())
      return invalidArgument(fmt::format("{}: state '{}': initial_state data_type {} is not the state's {}", where,
                                         state.input_name(), inference::DataType_Name(init.data_type()),
                                         inference::DataType_Name(state.data_type())));
    for (int64_t d : init.dims()) {
      if (d < 0)
        return invalidArgument(fmt::format("{}: state '{}': initial_state dims must be fixed, got {}", where,
                                           state.input_name(), d));
      shape.push_back(d);
    }
    if (init.state_data_case() == Batching::InitialState::kDataFile) file = init.data_file();
    else if (init.state_data_case() != Batching::InitialState::kZeroData)
      return invalidArgument(fmt::format("{}: state '{}': initial_state needs zero_data or data_file", where,
                                         state.input_name()));
  } else {
    for (int64_t d : state.dims()) shape.push_back(d < 0 ? 1 : d);
  }
  // The shape must be one the model takes.
  bool fits = shape.size() == input.dims.size();
  for (size_t d = 0; fits && d < shape.size(); ++d)
    fits = input.dims[d].isConstant() ? shape[d] == input.dims[d].value() : shape[d] <= input.bounds[d];
  if (!fits)
    return invalidArgument(fmt::format("{}: state '{}': its initial value has shape {}, which input '{}' does not take",
                                       where, state.input_name(), fmt::join(shape, "x"), input.name));
  runtime::Tensor tensor = runtime::Tensor::zeros(input.dtype, shape);
  if (!file.empty()) {
    if (file.find('/') != std::string::npos || file.find('\\') != std::string::npos || file == "." || file == "..")
      return invalidArgument(fmt::format("{}: state '{}': initial_state data_file '{}' must be a file name in {}/", where,
                                         state.input_name(), file, (modelDir / "initial_state").string()));
    const auto path = modelDir / "initial_state" / file;
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (!in) return invalidArgument(fmt::format("{}: state '{}': cannot read {}", where, state.input_name(), path.string()));
    const std::string data = bytes.str();
    if (static_cast<int64_t>(data.size()) != tensor.nbytes())
      return invalidArgument(fmt::format("{}: state '{}': {} has {} bytes, but shape {} of {} needs {}", where,
                                         state.input_name(), path.string(), data.size(), fmt::join(shape, "x"),
                                         tritonDatatype(input.dtype), tensor.nbytes()));
    tensor = runtime::Tensor::fromBytes(input.dtype, shape, data.data());
  }
  return runtime::RuntimeValue(std::move(tensor));
}

}  // namespace

Status markSequenceInputs(const Batching& config, std::vector<TensorInfo>& inputs, const std::string& where) {
  auto mark = [&](const std::string& name, TensorRole role, const char* what) -> Status {
    size_t k = 0;
    if (!findTensor(inputs, name, &k))
      return invalidArgument(fmt::format("{}: sequence_batching {} '{}' is not an input of the model (it takes: {})",
                                         where, what, name, names(inputs)));
    if (inputs[k].role != TensorRole::Request)
      return invalidArgument(fmt::format("{}: sequence_batching names input '{}' twice", where, name));
    inputs[k].role = role;
    return Status::success();
  };
  for (const auto& c : config.control_input()) COCKTAIL_SERVE_RETURN_IF_ERROR(mark(c.name(), TensorRole::Control, "control_input"));
  for (const auto& s : config.state()) COCKTAIL_SERVE_RETURN_IF_ERROR(mark(s.input_name(), TensorRole::State, "state input_name"));
  return Status::success();
}

StatusOr<std::unique_ptr<SequenceBatcher>> SequenceBatcher::create(const inference::ModelConfig& config,
                                                                   const std::vector<TensorInfo>& inputs,
                                                                   std::vector<TensorInfo>& outputs, size_t instances,
                                                                   size_t maxQueueSize,
                                                                   const std::filesystem::path& modelDir,
                                                                   const std::string& where) {
  const Batching& sb = config.sequence_batching();
  std::unique_ptr<SequenceBatcher> b(new SequenceBatcher());
  b->modelName_ = config.name();
  b->inputs_ = inputs;
  b->maxBatchSize_ = config.max_batch_size();
  b->maxQueueSize_ = maxQueueSize;
  b->liveOnInstance_.assign(std::max<size_t>(instances, 1), 0);
  // Times past a day are a mistake in the config (and would overflow the clock's arithmetic).
  for (auto [field, us] : {std::pair{"max_sequence_idle_microseconds", sb.max_sequence_idle_microseconds()},
                           std::pair{"oldest.max_queue_delay_microseconds", sb.oldest().max_queue_delay_microseconds()}})
    if (us > kMaxMicroseconds)
      return invalidArgument(fmt::format("{}: sequence_batching {} is {}; at most {} (a day)", where, field, us,
                                         kMaxMicroseconds));
  if (sb.max_sequence_idle_microseconds() > 0) b->maxIdle_ = std::chrono::microseconds(sb.max_sequence_idle_microseconds());
  if (sb.has_oldest()) {
    b->direct_ = false;
    b->maxQueueDelay_ = std::chrono::microseconds(sb.oldest().max_queue_delay_microseconds());
  }
  if (sb.iterative_sequence())
    return invalidArgument(fmt::format("{}: sequence_batching iterative_sequence is not supported by cocktail-serve", where));
  logFieldsWithoutEffect(sb, where);

  // ---- controls: one per control input, typed as the config says ----
  for (const auto& ci : sb.control_input()) {
    Control c;
    const TensorInfo* t = findTensor(inputs, ci.name(), &c.input);
    if (ci.control_size() != 1)
      return invalidArgument(fmt::format("{}: control_input '{}' has {} controls; give exactly one", where, ci.name(),
                                         ci.control_size()));
    const auto& control = ci.control(0);
    const std::string what = fmt::format("{}: control_input '{}' ({})", where, ci.name(), kindName(control.kind()));
    auto shape = rowShape(*t, b->maxBatchSize_, "control input");
    if (!shape) return invalidArgument(fmt::format("{}: {}", what, shape.status().message()));
    ir::DType dtype;
    if (control.kind() == Batching::Control::CONTROL_SEQUENCE_CORRID) {
      c.kind = Control::Kind::CorrelationId;
      if (control.data_type() == inference::TYPE_INT64) dtype = ir::DType::I64;
      else if (control.data_type() == inference::TYPE_INT32) dtype = ir::DType::I32;
      else
        return invalidArgument(fmt::format("{}: data_type is {}; cocktail-serve takes TYPE_INT64 or TYPE_INT32 (a "
                                           "TorchScript model has no unsigned or string tensors)",
                                           what, inference::DataType_Name(control.data_type())));
    } else {
      switch (control.kind()) {
        case Batching::Control::CONTROL_SEQUENCE_START: c.kind = Control::Kind::Start; break;
        case Batching::Control::CONTROL_SEQUENCE_READY: c.kind = Control::Kind::Ready; break;
        case Batching::Control::CONTROL_SEQUENCE_END: c.kind = Control::Kind::End; break;
        default: return invalidArgument(fmt::format("{}: unknown control kind", what));
      }
      const int given = (control.int32_false_true_size() > 0) + (control.fp32_false_true_size() > 0) +
                        (control.bool_false_true_size() > 0);
      double no = 0, yes = 1;
      if (given != 1)
        return invalidArgument(fmt::format("{}: give exactly one of int32_false_true, fp32_false_true, bool_false_true", what));
      if (control.int32_false_true_size() > 0) {
        if (control.int32_false_true_size() != 2) return invalidArgument(fmt::format("{}: int32_false_true needs [false, true]", what));
        dtype = ir::DType::I32, no = control.int32_false_true(0), yes = control.int32_false_true(1);
      } else if (control.fp32_false_true_size() > 0) {
        if (control.fp32_false_true_size() != 2) return invalidArgument(fmt::format("{}: fp32_false_true needs [false, true]", what));
        dtype = ir::DType::F32, no = control.fp32_false_true(0), yes = control.fp32_false_true(1);
      } else {
        if (control.bool_false_true_size() != 2) return invalidArgument(fmt::format("{}: bool_false_true needs [false, true]", what));
        dtype = ir::DType::I1, no = control.bool_false_true(0), yes = control.bool_false_true(1);
      }
      c.falseValue = filled(*t, *shape, no);
      c.trueValue = filled(*t, *shape, yes);
    }
    if (dtype != t->dtype)
      return invalidArgument(fmt::format("{}: the control is {}, but the model takes input '{}' as {}", what,
                                         tritonDatatype(dtype), t->name, tritonDatatype(t->dtype)));
    b->controls_.push_back(std::move(c));
  }

  // ---- implicit states: an input fed from an output, kept per sequence ----
  for (const auto& s : sb.state()) {
    State st;
    const TensorInfo* in = findTensor(inputs, s.input_name(), &st.input);
    const std::string what = fmt::format("{}: state '{}'", where, s.input_name());
    const TensorInfo* out = findTensor(outputs, s.output_name(), &st.output);
    if (!out)
      return invalidArgument(fmt::format("{}: output_name '{}' is not an output of the model (it has: {})", what,
                                         s.output_name(), names(outputs)));
    if (s.data_type() != inference::TYPE_INVALID && s.data_type() != configDataType(in->dtype))
      return invalidArgument(fmt::format("{}: data_type {}, but the model takes input '{}' as {}", what,
                                         inference::DataType_Name(s.data_type()), in->name, tritonDatatype(in->dtype)));
    if (out->dtype != in->dtype)
      return invalidArgument(fmt::format("{}: output '{}' is {} but input '{}' is {}", what, out->name,
                                         tritonDatatype(out->dtype), in->name, tritonDatatype(in->dtype)));
    auto initial = initialState(s, *in, b->maxBatchSize_, modelDir, where);
    if (!initial) return initial.status();
    st.initial = std::move(*initial);
    // Kept by the server; a client sees it only where config.pbtxt lists it as an output.
    bool listed = false;
    for (const auto& co : config.output()) listed |= co.name() == s.output_name();
    if (!listed) outputs[st.output].role = TensorRole::State;
    b->states_.push_back(std::move(st));
  }
  b->reaper_ = std::thread([raw = b.get()] { raw->reaperLoop(); });
  return b;
}

SequenceBatcher::~SequenceBatcher() { stop(); }

void SequenceBatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  reaperCv_.notify_all();
  if (reaper_.joinable() && reaper_.get_id() != std::this_thread::get_id()) reaper_.join();
}

int64_t SequenceBatcher::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

Status SequenceBatcher::enqueue(InferJob* job) {
  const SequenceRequest& r = job->sequence;
  if (r.id.empty())
    return invalidArgument(fmt::format("inference request to model '{}' must specify a non-zero or non-empty "
                                       "correlation ID (parameters['sequence_id']: it has sequence_batching)",
                                       modelName_));
  if (maxBatchSize_ > 0 && job->batchSize != 1)
    return invalidArgument(fmt::format("inference request to model '{}' must specify batch-size 1 due to requirements "
                                       "of sequence batcher (got {})",
                                       modelName_, job->batchSize));
  if (r.id.isText)
    for (const Control& c : controls_)
      if (c.kind == Control::Kind::CorrelationId)
        return invalidArgument(fmt::format("sequence_id {} is a string, but model '{}' takes its correlation ID as the "
                                           "{} input '{}'; use a number",
                                           r.id.str(), modelName_, tritonDatatype(inputs_[c.input].dtype),
                                           inputs_[c.input].name));
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return unavailable(fmt::format("model '{}' is unloading", modelName_));
  if (pending_ >= static_cast<int64_t>(maxQueueSize_))
    return {Status::Code::ResourceExhausted,
            fmt::format("model '{}' has {} requests queued, its limit (max_queue_size); retry later", modelName_, pending_)};
  auto it = live_.find(r.id);
  if (it == live_.end() && !r.start) {
    std::string why;
    if (released_.count(r.id))
      why = fmt::format(": sequence {} was released after {} us without a request (max_sequence_idle_microseconds)",
                        r.id.str(), maxIdle_.count());
    return invalidArgument(fmt::format("inference request for sequence {} to model '{}' must specify the START flag on "
                                       "the first request of the sequence{}",
                                       r.id.str(), modelName_, why));
  }
  auto endLive = [&](decltype(it) at) {
    if (at->second->instance != Sequence::kAnyInstance) --liveOnInstance_[at->second->instance];
    live_.erase(at);
  };
  if (r.start && it != live_.end()) {
    // Triton's behaviour: the earlier sequence did not end; its queued
    // requests still run on its state, and the new one starts afresh.
    spdlog::warn("sequence {} for model '{}' has a conflict. The previous sequence did not end before this sequence "
                 "start. Previous sequence will be terminated early.",
                 r.id.str(), modelName_);
    endLive(it);
    it = live_.end();
  }
  std::shared_ptr<Sequence> seq;
  if (it == live_.end()) {
    seq = std::make_shared<Sequence>();
    seq->id = r.id;
    for (const State& s : states_) seq->state.push_back(s.initial);
    if (direct_)
      seq->instance = static_cast<size_t>(
          std::min_element(liveOnInstance_.begin(), liveOnInstance_.end()) - liveOnInstance_.begin());
    released_.erase(r.id);
    if (!r.end) {  // a sequence of one request is never live
      live_.emplace(r.id, seq);
      if (direct_) ++liveOnInstance_[seq->instance];
    }
  } else {
    seq = it->second;
    if (r.end) endLive(it);  // a later START with this id is a new sequence
  }
  job->sequenceState = seq;
  seq->queue.push_back(job);
  seq->lastActivity = now;
  ++pending_;
  if (!seq->running && seq->queue.size() == 1) {
    ready_.push_back(seq);
    cv_.notify_all();
  }
  return Status::success();
}

bool SequenceBatcher::readyFor(const Sequence& sequence, size_t instance) const {
  return sequence.instance == Sequence::kAnyInstance || sequence.instance == instance;
}

std::shared_ptr<Sequence> SequenceBatcher::takeReady(size_t instance, const InferJob* like) {
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    Sequence& seq = **it;
    if (!readyFor(seq, instance)) continue;
    if (like) {
      // Rows of one batch: every request input and every state agree beyond the batch dim.
      const InferJob& job = *seq.queue.front();
      bool same = true;
      for (size_t i = 0; same && i < inputs_.size(); ++i) {
        if (inputs_[i].role != TensorRole::Request) continue;
        const auto* ta = std::get_if<runtime::Tensor>(&like->inputs[i]);
        const auto* tb = std::get_if<runtime::Tensor>(&job.inputs[i]);
        same = ta && tb && ta->dim() == tb->dim() && ta->dim() > 0 &&
               std::equal(ta->shape().begin() + 1, ta->shape().end(), tb->shape().begin() + 1);
      }
      for (size_t s = 0; same && s < states_.size(); ++s) {
        const auto* ta = std::get_if<runtime::Tensor>(&like->sequenceState->state[s]);
        const auto* tb = std::get_if<runtime::Tensor>(&seq.state[s]);
        same = ta && tb && ta->shape() == tb->shape();
      }
      if (!same) continue;
    }
    std::shared_ptr<Sequence> taken = *it;
    ready_.erase(it);
    taken->running = true;
    return taken;
  }
  return nullptr;
}

bool SequenceBatcher::next(size_t instance, std::vector<InferJob*>& batch) {
  batch.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    std::shared_ptr<Sequence> first;
    cv_.wait(lock, [&] { return (first = takeReady(instance, nullptr)) || stopping_; });
    if (!first) return false;  // stopping, and nothing is left for this instance
    auto take = [&](Sequence& seq) {
      batch.push_back(seq.queue.front());
      seq.queue.pop_front();
    };
    take(*first);
    if (maxBatchSize_ > 1) {
      const auto until = Clock::now() + maxQueueDelay_;
      auto gather = [&] {
        while (static_cast<int64_t>(batch.size()) < maxBatchSize_)
          if (auto more = takeReady(instance, batch.front())) take(*more);
          else break;
      };
      for (;;) {
        gather();
        if (static_cast<int64_t>(batch.size()) >= maxBatchSize_ || stopping_ || maxQueueDelay_.count() == 0) break;
        if (cv_.wait_until(lock, until) == std::cv_status::timeout && Clock::now() >= until) {
          gather();
          break;
        }
      }
    }
  }
  for (InferJob* job : batch) fillServerInputs(*job);
  return true;
}

runtime::RuntimeValue SequenceBatcher::controlValue(const Control& control, const InferJob& job) const {
  const TensorInfo& t = inputs_[control.input];
  switch (control.kind) {
    case Control::Kind::Start: return job.sequence.start ? control.trueValue : control.falseValue;
    case Control::Kind::End: return job.sequence.end ? control.trueValue : control.falseValue;
    case Control::Kind::Ready: return control.trueValue;  // every row of a batch here is a request
    case Control::Kind::CorrelationId: {
      runtime::Shape shape;
      for (size_t d = 0; d < t.dims.size(); ++d) shape.push_back(t.dims[d].isConstant() ? t.dims[d].value() : 1);
      return filledId(t, shape, job.sequence.id.number);
    }
  }
  return {};
}

void SequenceBatcher::fillServerInputs(InferJob& job) const {
  for (const Control& c : controls_) job.inputs[c.input] = controlValue(c, job);
  for (size_t s = 0; s < states_.size(); ++s) job.inputs[states_[s].input] = job.sequenceState->state[s];
}

void SequenceBatcher::fillStandalone(InferJob& job) const {
  job.sequence.start = job.sequence.end = true;
  for (const Control& c : controls_) job.inputs[c.input] = controlValue(c, job);
  for (const State& s : states_) job.inputs[s.input] = s.initial;
}

void SequenceBatcher::completed(InferJob* job) {
  std::shared_ptr<Sequence> seq = job->sequenceState;
  if (!seq) return;
  std::lock_guard<std::mutex> lock(mu_);
  // A failed request leaves the state as it was.
  if (job->status.ok())
    for (size_t s = 0; s < states_.size(); ++s)
      if (states_[s].output < job->results.size()) seq->state[s] = job->results[states_[s].output];
  seq->running = false;
  seq->lastActivity = Clock::now();
  --pending_;
  if (!seq->queue.empty()) {
    ready_.push_back(seq);
    cv_.notify_all();
  }
}

void SequenceBatcher::reaperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const auto now = Clock::now();
    auto wake = now + maxIdle_;
    for (auto it = live_.begin(); it != live_.end();) {
      Sequence& seq = *it->second;
      const auto expiry = seq.lastActivity + maxIdle_;
      if (seq.running || !seq.queue.empty() || expiry > now) {
        if (!seq.running && seq.queue.empty()) wake = std::min(wake, expiry);
        ++it;
        continue;
      }
      spdlog::info("model '{}': sequence {} released after {} us without a request (max_sequence_idle_microseconds)",
                   modelName_, seq.id.str(), maxIdle_.count());
      if (seq.instance != Sequence::kAnyInstance) --liveOnInstance_[seq.instance];
      if (released_.insert(seq.id).second) releasedOrder_.push_back(seq.id);
      while (releasedOrder_.size() > kRememberedReleases) {
        released_.erase(releasedOrder_.front());
        releasedOrder_.pop_front();
      }
      it = live_.erase(it);
    }
    reaperCv_.wait_until(lock, wake, [&] { return stopping_; });
  }
}

}  // namespace cocktail::server
