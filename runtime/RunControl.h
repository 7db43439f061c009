//===- runtime/RunControl.h - What may stop a run before it ends -----------------===//
//
// A run of a compiled model is bounded: a loop whose trip count is over a limit
// is refused before it starts, and a deadline, a cancellation flag (a server
// shutting down) or the clients it runs for all giving up (cancelled calls)
// stop it between loop steps. Executors
// check it at every loop step, which is where a model can run for unbounded
// time; straight-line code between two steps is bounded by its ops' sizes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace cocktail::runtime {

struct RunControl {
  using Clock = std::chrono::steady_clock;

  /// A loop asked to run more steps than this is refused before its first
  /// step (a trip count of 2^62 from a request is a hang, not a model).
  static constexpr int64_t kDefaultMaxLoopTrips = int64_t{1} << 32;

  Clock::time_point deadline = Clock::time_point::max();
  /// Another thread sets it to stop the run (read relaxed: a late stop by one
  /// step is fine). Null: never cancelled.
  const std::atomic<bool>* cancelled = nullptr;
  int64_t maxLoopTrips = kDefaultMaxLoopTrips;
  /// One flag per request this run answers (several for a batch), each set
  /// by another thread when its client gives up. The run stops once every
  /// one is set: a batch runs on while one client still waits. Empty:
  /// someone always waits. The flags outlive the run.
  std::span<const std::atomic<bool>* const> abandoned;

  /// True when `abandoned` is not empty and every flag in it is set.
  bool everyClientGaveUp() const {
    if (abandoned.empty()) return false;
    for (const std::atomic<bool>* flag : abandoned)
      if (!flag->load(std::memory_order_relaxed)) return false;
    return true;
  }

  /// Why the run must stop now: "the run was cancelled", "every client
  /// gave up" or "the deadline passed"; nothing while it may go on.
  std::optional<std::string> stopReason() const {
    if (cancelled && cancelled->load(std::memory_order_relaxed)) return std::string("the run was cancelled");
    if (everyClientGaveUp()) return std::string("every client gave up");
    if (deadline != Clock::time_point::max() && Clock::now() >= deadline) return std::string("the deadline passed");
    return std::nullopt;
  }
};

}  // namespace cocktail::runtime
