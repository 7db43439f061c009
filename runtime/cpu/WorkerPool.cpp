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

  /// Runs chunk c of `chunks` on worker c (the caller is chunk 0), unless
  /// another caller's region holds the workers: then returns false at once
  /// and runs nothing.
  bool tryRun(int chunks, const std::function<void(int)>& body) {
    std::unique_lock<std::mutex> one(callers_, std::try_to_lock);  // one parallel region at a time
    if (!one.owns_lock()) return false;
    body_ = &body;
    pending_.store(chunks - 1, std::memory_order_relaxed);
    publish(chunks);
    tInsideWorker = true;
    body(0);
    tInsideWorker = false;
    // Spin: the other chunks take about as long as ours.
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    return true;
  }

 private:
  void start(int workers) {
    quit_.store(false);
    // The generation a worker starts from is read here, not by the new
    // thread: one that started late would otherwise miss a change made before.
    const uint64_t start = work_.load(std::memory_order_acquire);
    for (int w = 1; w < workers; ++w) threads_.emplace_back([this, w, start] { loop(w, start); });
  }

  void stop() {
    quit_.store(true);
    publish(0);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  /// A new generation for the workers, a region of `chunks`: taking the
  /// sleep lock between the change and the notify means no worker can miss it.
  void publish(int chunks) {
    uint64_t old = work_.load(std::memory_order_relaxed);
    while (!work_.compare_exchange_weak(old, ((old >> 32) + 1) << 32 | static_cast<uint32_t>(chunks),
                                        std::memory_order_release, std::memory_order_relaxed)) {
    }
    { std::lock_guard<std::mutex> lock(sleep_); }
    wake_.notify_all();
  }

  void loop(int index, uint64_t seen) {
    tInsideWorker = true;
    for (;;) {
      // Spin a little (the next uOperator usually follows at once), then sleep.
      uint64_t now = seen;
      for (int spin = 0; spin < 4000 && now == seen; ++spin) now = work_.load(std::memory_order_acquire);
      if (now == seen) {
        std::unique_lock<std::mutex> lock(sleep_);
        wake_.wait(lock, [&] { return work_.load(std::memory_order_acquire) != seen; });
        now = work_.load(std::memory_order_acquire);
      }
      seen = now;
      if (quit_.load()) return;
      // The chunk count comes with the generation it belongs to. Read apart,
      // a worker left out of one region could read the next region's count
      // before that region was published, run its chunk, then run it again
      // on seeing its generation: a chunk twice, and the caller returning
      // while a chunk still ran.
      if (index < static_cast<int>(now & 0xffffffffu)) {
        (*body_)(index);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex callers_;
  // The generation (high 32 bits) and its region's chunk count (low 32),
  // published together by one release.
  std::atomic<uint64_t> work_{0};
  // Sleeping workers wait here (std::atomic::wait in GCC 12's libstdc++ can
  // miss a notify_all, so the sleep is a plain condition variable).
  std::mutex sleep_;
  std::condition_variable wake_;
  std::atomic<int> pending_{0};
  std::atomic<bool> quit_{false};
  // Read only by the workers taking part in the generation that set it: the
  // next region cannot begin before they are done with it.
  const std::function<void(int)>* body_ = nullptr;
};

int defaultWorkers() {
  if (const char* env = std::getenv("COCKTAIL_NUM_THREADS"))
    if (int n = std::atoi(env); n > 0) return n;
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  // Never destroyed: joining workers from an exit handler can hang the exit.
  static Pool* p = new Pool(defaultWorkers());
  return *p;
}

}  // namespace

int numWorkers() { return pool().size(); }

void setNumWorkers(int n) { pool().resize(std::max(1, n)); }

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
