//===- runtime/cpu/WorkerPool.cpp ---------------------------------------------------===//
#include "runtime/cpu/WorkerPool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cocktail::runtime::cpu {

namespace {

thread_local bool tInsideWorker = false;

class Pool {
 public:
  explicit Pool(int workers) { start(workers); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  void resize(int workers) {
    stop();
    start(workers);
  }

  /// Runs body(c) for every chunk c of `chunks`, on this thread and the
  /// workers, unless another caller's region holds the workers: then returns
  /// false at once and runs nothing.
  ///
  /// Chunks are claimed, not assigned: whoever is free takes the next one.
  /// A worker that is still asleep, or waiting for a core another process
  /// holds (a shared machine, a busy server), then delays nothing: the caller
  /// takes its chunks instead of waiting for it to wake.
  bool tryRun(int chunks, const std::function<void(int)>& body) {
    std::unique_lock<std::mutex> one(callers_, std::try_to_lock);  // one parallel region at a time
    if (!one.owns_lock()) return false;
    body_ = &body;
    completed_.store(0, std::memory_order_relaxed);
    // A new region, published in one store: its generation, its chunk count
    // and its next chunk (0). A worker still in the last region must never
    // see this region's count with that region's generation: it would claim
    // a chunk the last region does not have, and run it with this body.
    const uint64_t region = (claims_.load(std::memory_order_relaxed) >> 32) + 1;
    claims_.store(region << 32 | static_cast<uint64_t>(chunks) << 16, std::memory_order_release);
    publish();
    tInsideWorker = true;
    int mine = 0;
    for (int c; (c = claim(region)) >= 0; ++mine) body(c);
    tInsideWorker = false;
    // Wait only for chunks a worker claimed and is still running.
    while (completed_.load(std::memory_order_acquire) != chunks - mine) std::this_thread::yield();
    return true;
  }

 private:
  void start(int workers) {
    quit_.store(false);
    // The generation a worker starts from is read here, not by the new
    // thread: one that started late would otherwise miss a change made before.
    const uint32_t start = generation_.load(std::memory_order_acquire);
    for (int w = 1; w < workers; ++w) threads_.emplace_back([this, w, start] { loop(w, start); });
  }

  void stop() {
    quit_.store(true);
    publish();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  /// A new generation for the workers: taking the sleep lock between the
  /// change and the notify means no worker can miss it.
  void publish() {
    generation_.fetch_add(1, std::memory_order_release);
    { std::lock_guard<std::mutex> lock(sleep_); }
    wake_.notify_all();
  }

  void loop(int index, uint32_t seen) {
    tInsideWorker = true;
    for (;;) {
      // Spin a little (the next uOperator usually follows at once), then sleep.
      uint32_t now = seen;
      for (int spin = 0; spin < 4000 && now == seen; ++spin) now = generation_.load(std::memory_order_acquire);
      if (now == seen) {
        std::unique_lock<std::mutex> lock(sleep_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (quit_.load()) return;
      // body_ is read only after a claim succeeds: the region is then still
      // open (its caller waits for this chunk), so body_ is that region's.
      const uint64_t region = claims_.load(std::memory_order_acquire) >> 32;
      for (int c; (c = claim(region)) >= 0;) {
        (*body_)(c);
        completed_.fetch_add(1, std::memory_order_acq_rel);
      }
    }
  }

  /// The next unclaimed chunk of `region`, or -1 when none is left or the
  /// region is over (a late worker must not take a later region's chunk
  /// with an earlier region's body).
  int claim(uint64_t region) {
    uint64_t v = claims_.load(std::memory_order_acquire);
    for (;;) {
      const auto chunks = static_cast<int>(v >> 16 & 0xffff), next = static_cast<int>(v & 0xffff);
      if ((v >> 32) != region || next >= chunks) return -1;
      if (claims_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return next;
    }
  }

  std::vector<std::thread> threads_;
  std::mutex callers_;
  std::atomic<uint32_t> generation_{0};
  // Sleeping workers wait here (std::atomic::wait in GCC 12's libstdc++ can
  // miss a notify_all, so the sleep is a plain condition variable).
  std::mutex sleep_;
  std::condition_variable wake_;
  // The current region: its generation (bits 32-63), chunk count (16-31) and
  // next unclaimed chunk (0-15), changed together or not at all.
  std::atomic<uint64_t> claims_{0};
  std::atomic<int> completed_{0};  // chunks the workers finished in this region
  std::atomic<bool> quit_{false};
  const std::function<void(int)>* body_ = nullptr;
};

/// More workers than chunks a region can count (16 bits) are never useful.
constexpr int kMaxWorkers = 1024;

int clampWorkers(int64_t n) { return static_cast<int>(std::clamp<int64_t>(n, 1, kMaxWorkers)); }

int defaultWorkers() {
  if (const char* env = std::getenv("COCKTAIL_NUM_THREADS"))
    if (int64_t n = std::atoll(env); n > 0) return clampWorkers(n);
  return clampWorkers(std::thread::hardware_concurrency());
}

Pool& pool() {
  // Never destroyed: joining workers from an exit handler can hang the exit.
  static Pool* p = new Pool(defaultWorkers());
  return *p;
}

}  // namespace

int numWorkers() { return pool().size(); }

void setNumWorkers(int n) { pool().resize(clampWorkers(n)); }

void parallelFor(int64_t n, int64_t minChunk, const std::function<void(int64_t, int64_t)>& f) {
  if (n <= 0) return;
  const int64_t maxChunks = std::max<int64_t>(1, n / std::max<int64_t>(minChunk, 1));
  const int chunks = static_cast<int>(std::min<int64_t>(maxChunks, tInsideWorker ? 1 : numWorkers()));
  if (chunks <= 1) return f(0, n);
  const int64_t per = (n + chunks - 1) / chunks;
  const bool split = pool().tryRun(chunks, [&](int c) {
    const int64_t begin = c * per, end = std::min(n, begin + per);
    if (begin < end) f(begin, end);
  });
  // The workers are busy with another thread's region (a server's other
  // instance, say): this thread is a core's worth of work on its own, so it
  // runs the whole range now instead of queuing for them. Requests running
  // side by side then each take a core; one alone takes them all.
  if (!split) f(0, n);
}

}  // namespace cocktail::runtime::cpu
