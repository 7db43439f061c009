//===- server/GrpcServer.cpp ------------------------------------------------------===//
#include "server/GrpcServer.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include "grpc_service.grpc.pb.h"

namespace cocktail::server {

using Service = inference::GRPCInferenceService::AsyncService;

/// The one place where server errors become gRPC status codes.
grpc::Status toGrpcStatus(const Status& s) {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (s.code()) {
    case Status::Code::Ok: return grpc::Status::OK;
    case Status::Code::InvalidArgument: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case Status::Code::NotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case Status::Code::Unavailable: code = grpc::StatusCode::UNAVAILABLE; break;
    case Status::Code::ResourceExhausted: code = grpc::StatusCode::RESOURCE_EXHAUSTED; break;
    case Status::Code::DeadlineExceeded: code = grpc::StatusCode::DEADLINE_EXCEEDED; break;
    case Status::Code::Cancelled: code = grpc::StatusCode::CANCELLED; break;
    case Status::Code::FailedPrecondition: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case Status::Code::Unimplemented: code = grpc::StatusCode::UNIMPLEMENTED; break;
    case Status::Code::Internal: code = grpc::StatusCode::INTERNAL; break;
  }
  return grpc::Status(code, s.message());
}

namespace {

// The completion queue orders what a thread did to a call before handing it
// to gRPC (a Finish, a Read) with what the thread that gets the tag back
// does next; it does so inside libgrpc, which ThreadSanitizer cannot see
// into (Debian's is not instrumented), so each hand-off and take-back says
// it, per tag. Nothing in other builds.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
void handOff(void* tag) { __tsan_release(tag); }
void takeBack(void* tag) { __tsan_acquire(tag); }
#else
void handOff(void*) {}
void takeBack(void*) {}
#endif

/// What a completion-queue event is delivered to.
class Tag {
 public:
  virtual ~Tag() = default;
  virtual void proceed(bool ok) = 0;
};

/// Loads and unloads, one at a time, off the completion-queue threads.
class ControlThread {
 public:
  ControlThread() : thread_([this] { loop(); }) {}
  ~ControlThread() { stop(); }
  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

struct NoState {
  void reset() {}
};

/// Per-call state of ModelInfer: the model the request was accepted for and
/// the job that carries it through the model.
struct InferState {
  std::shared_ptr<Model> model;
  InferJob job;
  void reset() {
    model.reset();
    job.reset();
  }
  /// The call was cancelled or passed its deadline: the job is dropped if
  /// still queued, and its run stops at the next loop step.
  void clientGaveUp() { job.abandoned.store(true); }
};

/// A call whose state has clientGaveUp() is told when its client gives up
/// (AsyncNotifyWhenDone); the quick methods are not.
template <class State>
concept WatchesClient = requires(State& s) {
  s.clientGaveUp();
};

}  // namespace

class GrpcServer::Impl {
 public:
  Impl(ServiceCore& core, GrpcServerOptions options) : core_(core), options_(std::move(options)) {}

  Status start();
  int64_t drainAndShutdown(std::chrono::milliseconds timeout);
  int port() const { return port_; }

  // ---- calls --------------------------------------------------------------------
  class PoolBase {
   public:
    virtual ~PoolBase() = default;
    virtual void armOne() = 0;
  };

  /// A unary RPC: waiting for a request -> running its handler -> finishing.
  /// The handler calls finish() exactly once, now or later from any thread,
  /// and must not touch the call after that.
  template <class Req, class Resp, class State = NoState>
  class UnaryCall final : public Tag {
   public:
    using RequestFn = void (Service::*)(grpc::ServerContext*, Req*, grpc::ServerAsyncResponseWriter<Resp>*,
                                        grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
    using Handler = void (Impl::*)(UnaryCall&);

    /// The free calls of one method on one completion queue.
    class Pool final : public PoolBase {
     public:
      Pool(Impl& impl, RequestFn request, Handler handler, grpc::ServerCompletionQueue* cq)
          : impl_(impl), request_(request), handler_(handler), cq_(cq) {}
      ~Pool() override {
        for (UnaryCall* c : free_) delete c;
      }
      void armOne() override {
        UnaryCall* call = nullptr;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!free_.empty()) call = free_.back(), free_.pop_back();
        }
        if (!call) call = new UnaryCall(*this);
        call->arm();
      }
      void release(UnaryCall* call) {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(call);
      }
      /// Asks gRPC for this method's next request into `call`.
      void request(UnaryCall& call) {
        handOff(&call);
        (impl_.service_.*request_)(&*call.context_, &call.request_, &*call.writer_, cq_, cq_, &call);
      }
      void handle(UnaryCall& call) { (impl_.*handler_)(call); }

     private:
      friend class UnaryCall;
      Impl& impl_;
      RequestFn request_;
      Handler handler_;
      grpc::ServerCompletionQueue* cq_;
      std::mutex mu_;
      std::vector<UnaryCall*> free_;
    };

    explicit UnaryCall(Pool& pool) : pool_(pool), done_(*this) {}

    void arm() {
      phase_ = Phase::Waiting;
      request_.Clear();
      response_.Clear();
      state_.reset();
      context_.emplace();
      // gRPC delivers done_ once the call is over (answered, cancelled or
      // past its deadline), only for a call that was matched to a request.
      if constexpr (WatchesClient<State>) handOff(&done_), context_->AsyncNotifyWhenDone(&done_);
      writer_.emplace(&*context_);
      pool_.request(*this);
    }

    void proceed(bool ok) override {
      if (phase_ == Phase::Waiting) {
        if (!ok) {  // the server is shutting down
          delete this;
          return;
        }
        pool_.armOne();  // the next request of this method finds a call waiting
        phase_ = Phase::Running;
        eventsLeft_.store(WatchesClient<State> ? 2 : 1);  // Finish, and done_ where watched
        received_ = Clock::now();
        pool_.handle(*this);
        return;
      }
      // Finish completed (or failed: the client went away).
      eventDone();
    }

    void finish(const Status& status) {
      phase_ = Phase::Finishing;
      handOff(this);
      if (status.ok()) writer_->Finish(response_, grpc::Status::OK, this);
      else writer_->FinishWithError(toGrpcStatus(status), this);
    }

    Req& request() { return request_; }
    Resp& response() { return response_; }
    State& state() { return state_; }
    grpc::ServerContext& context() { return *context_; }
    Clock::time_point received() const { return received_; }
    Impl& impl() { return pool_.impl_; }

   private:
    /// AsyncNotifyWhenDone's tag: IsCancelled() may be read only once it came.
    struct DoneTag final : Tag {
      explicit DoneTag(UnaryCall& c) : call(c) {}
      void proceed(bool) override {
        if constexpr (WatchesClient<State>)
          if (call.context_->IsCancelled()) call.state_.clientGaveUp();
        call.eventDone();
      }
      UnaryCall& call;
    };

    /// Recycles the call after its last completion-queue event.
    void eventDone() {
      if (eventsLeft_.fetch_sub(1) != 1) return;
      state_.reset();
      writer_.reset();
      context_.reset();
      pool_.release(this);
    }

    enum class Phase { Waiting, Running, Finishing };
    Pool& pool_;
    DoneTag done_;
    std::atomic<int> eventsLeft_{0};  // of Finish and done_, once running
    Phase phase_ = Phase::Waiting;
    Req request_;
    Resp response_;
    State state_;
    std::optional<grpc::ServerContext> context_;
    std::optional<grpc::ServerAsyncResponseWriter<Resp>> writer_;
    Clock::time_point received_;
  };

  class StreamCall;

  template <class Req, class Resp, class State = NoState>
  void addMethod(typename UnaryCall<Req, Resp, State>::RequestFn request,
                 typename UnaryCall<Req, Resp, State>::Handler handler) {
    for (auto& cq : cqs_) pools_.push_back(std::make_unique<typename UnaryCall<Req, Resp, State>::Pool>(*this, request, handler, cq.get()));
  }

  // ---- handlers ---------------------------------------------------------------------
  using LiveCall = UnaryCall<inference::ServerLiveRequest, inference::ServerLiveResponse>;
  using ReadyCall = UnaryCall<inference::ServerReadyRequest, inference::ServerReadyResponse>;
  using ModelReadyCall = UnaryCall<inference::ModelReadyRequest, inference::ModelReadyResponse>;
  using ServerMetadataCall = UnaryCall<inference::ServerMetadataRequest, inference::ServerMetadataResponse>;
  using ModelMetadataCall = UnaryCall<inference::ModelMetadataRequest, inference::ModelMetadataResponse>;
  using InferCall = UnaryCall<inference::ModelInferRequest, inference::ModelInferResponse, InferState>;
  using ConfigCall = UnaryCall<inference::ModelConfigRequest, inference::ModelConfigResponse>;
  using StatisticsCall = UnaryCall<inference::ModelStatisticsRequest, inference::ModelStatisticsResponse>;
  using IndexCall = UnaryCall<inference::RepositoryIndexRequest, inference::RepositoryIndexResponse>;
  using LoadCall = UnaryCall<inference::RepositoryModelLoadRequest, inference::RepositoryModelLoadResponse>;
  using UnloadCall = UnaryCall<inference::RepositoryModelUnloadRequest, inference::RepositoryModelUnloadResponse>;

  void onLive(LiveCall& c) {
    c.response().set_live(true);
    c.finish(Status::success());
  }
  void onReady(ReadyCall& c) {
    c.response().set_ready(core_.serverReady());
    c.finish(Status::success());
  }
  void onModelReady(ModelReadyCall& c) {
    c.response().set_ready(core_.modelReady(c.request().name(), c.request().version()));
    c.finish(Status::success());
  }
  void onServerMetadata(ServerMetadataCall& c) {
    core_.serverMetadata(c.response());
    c.finish(Status::success());
  }
  void onModelMetadata(ModelMetadataCall& c) {
    c.finish(core_.modelMetadata(c.request().name(), c.request().version(), c.response()));
  }
  void onConfig(ConfigCall& c) { c.finish(core_.modelConfig(c.request().name(), c.request().version(), c.response())); }
  void onStatistics(StatisticsCall& c) {
    c.finish(core_.statistics(c.request().name(), c.request().version(), c.response()));
  }
  void onIndex(IndexCall& c) {
    core_.index(c.request().ready(), c.response());
    c.finish(Status::success());
  }
  template <class Call>
  Status checkRepositoryRequest(Call& c) {
    const auto& req = c.request();
    return core_.checkRepositoryRequest(req.repository_name(), req.model_name(), req.parameters());
  }
  void onLoad(LoadCall& c) {
    if (Status s = checkRepositoryRequest(c); !s.ok()) return c.finish(s);
    control_.post([this, &c] { c.finish(core_.load(c.request().model_name())); });
  }
  void onUnload(UnloadCall& c) {
    if (Status s = checkRepositoryRequest(c); !s.ok()) return c.finish(s);
    control_.post([this, &c] { c.finish(core_.unload(c.request().model_name())); });
  }
  template <class Call>
  void onUnimplemented(Call& c) {
    c.finish({Status::Code::Unimplemented,
              "cocktail-serve does not implement shared memory, trace or log settings; send tensors in the request"});
  }

  /// Accepts `request` for its model through the core, with the client's deadline.
  Status accept(const inference::ModelInferRequest& request, grpc::ServerContext& context, std::shared_ptr<Model>& model,
                InferJob& job, void (*done)(InferJob*), void* owner) {
    Clock::time_point clientDeadline = Clock::time_point::max();
    auto deadline = context.deadline();
    if (deadline != std::chrono::system_clock::time_point::max())
      clientDeadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(deadline - std::chrono::system_clock::now());
    return core_.accept(request, clientDeadline, model, job, done, owner);
  }
  void onInfer(InferCall& c) {
    InferState& st = c.state();
    Status s = accept(c.request(), c.context(), st.model, st.job, &Impl::inferDone, &c);
    if (!s.ok()) c.finish(s);
  }
  static void inferDone(InferJob* job) {
    auto* call = static_cast<InferCall*>(job->owner);
    Impl& impl = call->impl();
    call->finish(ServiceCore::respond(call->request(), *call->state().model, *job, call->response()));
    impl.core_.finishedOne();
  }

  // ---- state -----------------------------------------------------------------------
  // Destroyed bottom-up: the threads are joined before the call pools go,
  // the server goes before its completion queues and its service.
  ServiceCore& core_;
  GrpcServerOptions options_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  Service service_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::unique_ptr<PoolBase>> pools_;
  std::vector<std::thread> threads_;
  ControlThread control_;
  int port_ = 0;
  bool shutDown_ = false;
};

// ---- ModelStreamInfer ----------------------------------------------------------------
//
// One bidirectional stream: one read and one write outstanding at a time.
// Each request read becomes a slot (recycled within the stream) that goes
// through a model like a unary request; responses are written in the order
// they complete, errors as error_message without ending the stream. After
// the client half-closes, the call finishes once every slot is written. A
// stream the client cancels gives up every request still on it.
class GrpcServer::Impl::StreamCall final {
 public:
  static void armNew(Impl& impl, grpc::ServerCompletionQueue* cq) { (new StreamCall(impl, cq))->arm(); }

 private:
  struct Slot {
    StreamCall* call = nullptr;
    inference::ModelInferRequest request;
    inference::ModelStreamInferResponse response;
    std::shared_ptr<Model> model;
    InferJob job;
  };
  struct Event final : Tag {
    StreamCall* call;
    void (StreamCall::*fn)(bool);
    Event(StreamCall* c, void (StreamCall::*f)(bool)) : call(c), fn(f) {}
    void proceed(bool ok) override { (call->*fn)(ok); }
  };

  StreamCall(Impl& impl, grpc::ServerCompletionQueue* cq)
      : impl_(impl),
        cq_(cq),
        stream_(&context_),
        connected_(this, &StreamCall::onConnected),
        read_(this, &StreamCall::onRead),
        write_(this, &StreamCall::onWritten),
        finished_(this, &StreamCall::onFinished),
        done_(this, &StreamCall::onDone) {}

  void arm() {
    handOff(&done_);
    context_.AsyncNotifyWhenDone(&done_);  // delivered only once connected
    handOff(&connected_);
    impl_.service_.RequestModelStreamInfer(&context_, &stream_, cq_, cq_, &connected_);
  }

  Slot* takeSlot() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) {
      slots_.push_back(std::make_unique<Slot>());
      slots_.back()->call = this;
      free_.push_back(slots_.back().get());
    }
    Slot* s = free_.back();
    free_.pop_back();
    s->request.Clear();
    s->response.Clear();
    s->model.reset();
    s->job.reset();
    ++busy_;
    return s;
  }

  void onConnected(bool ok) {
    if (!ok) {  // shutting down
      delete this;
      return;
    }
    armNew(impl_, cq_);
    startRead();
  }

  void startRead() {
    reading_ = takeSlot();
    handOff(&read_);
    stream_.Read(&reading_->request, &read_);
  }

  void onRead(bool ok) {
    Slot* slot = reading_;
    if (!ok) {  // the client half-closed (or went away)
      std::lock_guard<std::mutex> lock(mu_);
      readsDone_ = true;
      releaseLocked(slot);
      maybeFinishLocked();
      return;
    }
    startReadAfter(slot);
  }

  void startReadAfter(Slot* slot) {
    Status s = impl_.accept(slot->request, context_, slot->model, slot->job, &StreamCall::jobDone, slot);
    if (!s.ok()) {
      slot->response.set_error_message(s.message());
      auto* r = slot->response.mutable_infer_response();
      r->set_id(slot->request.id());
      r->set_model_name(slot->request.model_name());
      r->set_model_version(slot->request.model_version());
      queueWrite(slot);
    }
    startRead();
  }

  static void jobDone(InferJob* job) {
    auto* slot = static_cast<Slot*>(job->owner);
    Impl& impl = slot->call->impl_;
    Status s = ServiceCore::respond(slot->request, *slot->model, *job, *slot->response.mutable_infer_response());
    if (!s.ok()) {
      slot->response.set_error_message(s.message());
      auto* r = slot->response.mutable_infer_response();
      r->set_id(slot->request.id());
      r->set_model_name(slot->request.model_name());
    }
    slot->call->queueWrite(slot);
    impl.core_.finishedOne();
  }

  void queueWrite(Slot* slot) {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_) {
      releaseLocked(slot);
      maybeFinishLocked();
      return;
    }
    if (writing_) {
      pendingWrites_.push_back(slot);
      return;
    }
    writing_ = slot;
    handOff(&write_);
    stream_.Write(slot->response, &write_);
  }

  void onWritten(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ok) broken_ = true;
    releaseLocked(writing_);
    writing_ = nullptr;
    while (broken_ && !pendingWrites_.empty()) {
      releaseLocked(pendingWrites_.front());
      pendingWrites_.pop_front();
    }
    if (!pendingWrites_.empty()) {
      writing_ = pendingWrites_.front();
      pendingWrites_.pop_front();
      handOff(&write_);
      stream_.Write(writing_->response, &write_);
      return;
    }
    maybeFinishLocked();
  }

  void releaseLocked(Slot* slot) {
    slot->model.reset();
    free_.push_back(slot);
    --busy_;
  }

  void maybeFinishLocked() {
    if (!readsDone_ || busy_ > 0 || writing_ || finishing_) return;
    finishing_ = true;
    handOff(&finished_);
    stream_.Finish(grpc::Status::OK, &finished_);
  }

  void onFinished(bool) { lastEvent(); }

  void onDone(bool) {
    if (context_.IsCancelled()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& slot : slots_) slot->job.abandoned.store(true);  // a free slot is reset when taken
    }
    lastEvent();
  }

  /// The stream is deleted after both Finish and done_ came back.
  void lastEvent() {
    if (eventsLeft_.fetch_sub(1) == 1) delete this;
  }

  Impl& impl_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest> stream_;
  Event connected_, read_, write_, finished_, done_;
  std::atomic<int> eventsLeft_{2};  // Finish and done_, once connected
  std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
  int busy_ = 0;  // slots being read, run or written
  Slot* reading_ = nullptr;
  Slot* writing_ = nullptr;
  std::deque<Slot*> pendingWrites_;
  bool readsDone_ = false, finishing_ = false, broken_ = false;
};

Status GrpcServer::Impl::start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.address, grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(options_.maxMessageBytes);
  builder.SetMaxSendMessageSize(options_.maxMessageBytes);
  builder.RegisterService(&service_);
  for (int i = 0; i < std::max(1, options_.completionQueueThreads); ++i) cqs_.push_back(builder.AddCompletionQueue());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return unavailable(fmt::format("cannot listen on {} (in use, or not an address)", options_.address));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);

  using S = Service;
  addMethod<inference::ServerLiveRequest, inference::ServerLiveResponse>(&S::RequestServerLive, &Impl::onLive);
  addMethod<inference::ServerReadyRequest, inference::ServerReadyResponse>(&S::RequestServerReady, &Impl::onReady);
  addMethod<inference::ModelReadyRequest, inference::ModelReadyResponse>(&S::RequestModelReady, &Impl::onModelReady);
  addMethod<inference::ServerMetadataRequest, inference::ServerMetadataResponse>(&S::RequestServerMetadata,
                                                                                  &Impl::onServerMetadata);
  addMethod<inference::ModelMetadataRequest, inference::ModelMetadataResponse>(&S::RequestModelMetadata,
                                                                                &Impl::onModelMetadata);
  addMethod<inference::ModelInferRequest, inference::ModelInferResponse, InferState>(&S::RequestModelInfer, &Impl::onInfer);
  addMethod<inference::ModelConfigRequest, inference::ModelConfigResponse>(&S::RequestModelConfig, &Impl::onConfig);
  addMethod<inference::ModelStatisticsRequest, inference::ModelStatisticsResponse>(&S::RequestModelStatistics,
                                                                                    &Impl::onStatistics);
  addMethod<inference::RepositoryIndexRequest, inference::RepositoryIndexResponse>(&S::RequestRepositoryIndex, &Impl::onIndex);
  addMethod<inference::RepositoryModelLoadRequest, inference::RepositoryModelLoadResponse>(&S::RequestRepositoryModelLoad,
                                                                                            &Impl::onLoad);
  addMethod<inference::RepositoryModelUnloadRequest, inference::RepositoryModelUnloadResponse>(
      &S::RequestRepositoryModelUnload, &Impl::onUnload);
#define COCKTAIL_UNIMPLEMENTED(NAME)                                                                   \
  addMethod<inference::NAME##Request, inference::NAME##Response>(                                      \
      &S::Request##NAME, &Impl::onUnimplemented<UnaryCall<inference::NAME##Request, inference::NAME##Response>>)
  COCKTAIL_UNIMPLEMENTED(SystemSharedMemoryStatus);
  COCKTAIL_UNIMPLEMENTED(SystemSharedMemoryRegister);
  COCKTAIL_UNIMPLEMENTED(SystemSharedMemoryUnregister);
  COCKTAIL_UNIMPLEMENTED(CudaSharedMemoryStatus);
  COCKTAIL_UNIMPLEMENTED(CudaSharedMemoryRegister);
  COCKTAIL_UNIMPLEMENTED(CudaSharedMemoryUnregister);
  COCKTAIL_UNIMPLEMENTED(TraceSetting);
  COCKTAIL_UNIMPLEMENTED(LogSettings);
#undef COCKTAIL_UNIMPLEMENTED
  for (auto& pool : pools_) pool->armOne();
  for (auto& cq : cqs_) StreamCall::armNew(*this, cq.get());
  for (auto& cq : cqs_)
    threads_.emplace_back([q = cq.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (q->Next(&tag, &ok)) {
        takeBack(tag);
        static_cast<Tag*>(tag)->proceed(ok);
      }
    });
  return Status::success();
}

int64_t GrpcServer::Impl::drainAndShutdown(std::chrono::milliseconds timeout) {
  if (shutDown_ || !server_) return 0;
  shutDown_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  int64_t left = core_.drain(timeout);
  // Loads and unloads in progress finish first; their calls are answered.
  control_.stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  for (auto& cq : cqs_) cq->Shutdown();
  for (auto& t : threads_) t.join();
  return left;
}

GrpcServer::GrpcServer(ServiceCore& core, GrpcServerOptions options)
    : impl_(std::make_unique<Impl>(core, std::move(options))) {}

GrpcServer::~GrpcServer() { drainAndShutdown(std::chrono::milliseconds(0)); }

Status GrpcServer::start() { return impl_->start(); }
int GrpcServer::port() const { return impl_->port(); }
int64_t GrpcServer::drainAndShutdown(std::chrono::milliseconds timeout) { return impl_->drainAndShutdown(timeout); }

}  // namespace cocktail::server
